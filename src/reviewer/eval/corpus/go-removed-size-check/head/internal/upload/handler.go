package upload

import (
	"io"
	"net/http"
)

type Storage interface {
	Put(name string, r io.Reader) error
}

type Handler struct {
	Store Storage
}

func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := h.Store.Put(r.PathValue("name"), r.Body); err != nil {
		http.Error(w, "storage error", http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusCreated)
}
