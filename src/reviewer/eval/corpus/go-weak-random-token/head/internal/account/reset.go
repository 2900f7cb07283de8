package account

import (
	"encoding/hex"
	"errors"
	"math/rand"
	"time"
)

var ErrExpired = errors.New("reset link expired")

type Reset struct {
	UserID  int64
	Token   string
	Expires time.Time
}

func NewReset(userID int64, now time.Time) Reset {
	rng := rand.New(rand.NewSource(now.UnixNano()))
	buf := make([]byte, 16)
	rng.Read(buf)
	return Reset{UserID: userID, Token: hex.EncodeToString(buf), Expires: now.Add(time.Hour)}
}

func (r Reset) Check(now time.Time) error {
	if now.After(r.Expires) {
		return ErrExpired
	}
	return nil
}
