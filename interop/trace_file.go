package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// WriteTrace writes a trace as JSON with one exchange a line (so that a diff shows the requests that
// changed), creating its directory.
func WriteTrace(path string, t Trace) error {
	reqs := t.Requests
	t.Requests = nil
	head, err := json.Marshal(t)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Write(head[:len(head)-len(`,"requests":null}`)])
	b.WriteString(",\n\"requests\": [\n")
	for i, x := range reqs {
		line, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(line)
		if i < len(reqs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// ReadTrace reads a trace WriteTrace wrote.
func ReadTrace(path string) (Trace, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Trace{}, err
	}
	var t Trace
	if err := json.Unmarshal(b, &t); err != nil {
		return Trace{}, fmt.Errorf("interop: %s: %w", path, err)
	}
	return t, nil
}
