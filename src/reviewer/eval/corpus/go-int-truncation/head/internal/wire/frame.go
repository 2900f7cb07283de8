package wire

import (
	"bufio"
	"encoding/binary"
	"io"
)

// WriteFrame writes one message as a 2-byte big-endian length then the payload.
func WriteFrame(w *bufio.Writer, payload []byte) error {
	var header [2]byte
	binary.BigEndian.PutUint16(header[:], uint16(len(payload)))
	if _, err := w.Write(header[:]); err != nil {
		return err
	}
	if _, err := w.Write(payload); err != nil {
		return err
	}
	return w.Flush()
}

// ReadFrame reads one message written by WriteFrame.
func ReadFrame(r io.Reader) ([]byte, error) {
	var header [2]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	payload := make([]byte, binary.BigEndian.Uint16(header[:]))
	_, err := io.ReadFull(r, payload)
	return payload, err
}
