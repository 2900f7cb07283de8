package flags

import "context"

type Resolver interface {
	Resolve(ctx context.Context, tenant string) (map[string]bool, error)
}

type Service struct {
	resolver Resolver
}

func NewService(r Resolver) *Service {
	return &Service{resolver: r}
}

func (s *Service) Enabled(ctx context.Context, tenant, flag string) (bool, error) {
	flags, err := s.resolver.Resolve(ctx, tenant)
	if err != nil {
		return false, err
	}
	return flags[flag], nil
}
