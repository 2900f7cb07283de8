package upload

import (
	"bytes"
	"io"
	"net/http"
)

const maxUpload = 20 << 20 // 20 MiB

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
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "upload too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err := h.Store.Put(r.PathValue("name"), bytes.NewReader(data)); err != nil {
		http.Error(w, "storage error", http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusCreated)
}
