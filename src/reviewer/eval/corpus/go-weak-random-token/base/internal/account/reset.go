package account

import (
	"errors"
	"time"
)

var ErrExpired = errors.New("reset link expired")

type Reset struct {
	UserID  int64
	Token   string
	Expires time.Time
}

func (r Reset) Check(now time.Time) error {
	if now.After(r.Expires) {
		return ErrExpired
	}
	return nil
}
