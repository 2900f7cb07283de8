package flags

import "context"

type Resolver interface {
	Resolve(ctx context.Context, tenant string) (map[string]bool, error)
}

type Service struct {
	resolver Resolver
	cache    map[string]map[string]bool
}

func NewService(r Resolver) *Service {
	return &Service{resolver: r, cache: make(map[string]map[string]bool)}
}

// Enabled is called from every request goroutine.
func (s *Service) Enabled(ctx context.Context, tenant, flag string) (bool, error) {
	if flags, ok := s.cache[tenant]; ok {
		return flags[flag], nil
	}
	flags, err := s.resolver.Resolve(ctx, tenant)
	if err != nil {
		return false, err
	}
	s.cache[tenant] = flags
	return flags[flag], nil
}
