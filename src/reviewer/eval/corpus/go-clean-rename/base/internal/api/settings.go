package api

import (
	"errors"
	"net/http"

	"example.com/app/internal/store"
)

type SettingsHandler struct {
	Store *store.Store
}

func (h SettingsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	value, err := h.Store.Fetch(r.Context(), "settings:"+r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(value))
}
