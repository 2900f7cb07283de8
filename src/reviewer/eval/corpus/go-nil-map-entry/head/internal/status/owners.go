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
	Owner   string
	Channel string
}

func Rows(services []Service, owners map[string]*Team) []Row {
	rows := make([]Row, 0, len(services))
	for _, svc := range services {
		owner := owners[svc.Team]
		rows = append(rows, Row{
			Service: svc.Name,
			Up:      svc.Up,
			Owner:   owner.Name,
			Channel: owner.Channel,
		})
	}
	return rows
}
