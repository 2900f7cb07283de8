package wire

import (
	"bufio"
	"io"
)

// WriteLine writes one newline-terminated message.
func WriteLine(w *bufio.Writer, payload []byte) error {
	if _, err := w.Write(payload); err != nil {
		return err
	}
	if err := w.WriteByte('\n'); err != nil {
		return err
	}
	return w.Flush()
}

var _ io.Writer = (*bufio.Writer)(nil)
