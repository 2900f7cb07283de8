package status

type Team struct {
	Name    string
	Channel string
}

type Service struct {
	Name string
	Team string
	Up   bool
}

type Row struct {
	Service string
	Up      bool
}

func Rows(services []Service) []Row {
	rows := make([]Row, 0, len(services))
	for _, svc := range services {
		rows = append(rows, Row{Service: svc.Name, Up: svc.Up})
	}
	return rows
}
