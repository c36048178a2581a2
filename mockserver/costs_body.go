package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
)

// maxCostBody bounds how much of a request body is read to estimate its cost: a larger body gets 400 Bad Request.
const maxCostBody = 4 << 20

// BodyCost estimates a request's cost in one dimension from its JSON body, as AI APIs estimate the tokens of a
// request before serving it: the sum of the numeric members named by Members (found at any depth:
// "max_tokens"), plus, when CharsPerUnit is more than 0, the characters of every string value of the body
// (keys and the members listed in Members excluded) divided by CharsPerUnit, rounded up (OpenAI's rule of
// thumb: 4 characters per token). A request without a body, or whose body is not a JSON object, costs 1; a
// cost of 0 counts as 1.
type BodyCost struct {
	// Members are the names of numeric members whose values add to the cost ("max_tokens").
	Members []string
	// CharsPerUnit counts the body's text as one unit per CharsPerUnit characters (runes). 0: the text is
	// not counted.
	CharsPerUnit int64
}

// validate checks b, naming field.
func (b BodyCost) validate(field string) error {
	if b.CharsPerUnit < 0 {
		return badField(field+".CharsPerUnit", strconv.FormatInt(b.CharsPerUnit, 10), "%d is negative (0: the text is not counted)", b.CharsPerUnit)
	}
	if len(b.Members) == 0 && b.CharsPerUnit == 0 {
		return badField(field, fmt.Sprintf("%+v", b), "counts nothing: want Members, CharsPerUnit > 0, or both")
	}
	return nil
}

// estimate returns the cost of a decoded JSON body.
func (b *BodyCost) estimate(body any) int64 {
	var sum, chars int64
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, m := range v {
				if slices.Contains(b.Members, k) {
					if n, ok := m.(json.Number); ok {
						if i, err := n.Int64(); err == nil && i > 0 {
							sum += i
						}
					}
					continue
				}
				walk(m)
			}
		case []any:
			for _, m := range v {
				walk(m)
			}
		case string:
			chars += int64(len([]rune(v)))
		}
	}
	walk(body)
	if b.CharsPerUnit > 0 {
		sum += (chars + b.CharsPerUnit - 1) / b.CharsPerUnit
	}
	return max(sum, 1)
}

// bodyError is a request body the body costs cannot read.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "mockserver: request body: " + e.err.Error() }

// readJSONBody decodes r's body for the body costs and puts the bytes back, so that a wrapped handler still
// reads them. It returns nil for a request without a body or whose body is not JSON.
func readJSONBody(r *http.Request) (any, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxCostBody+1))
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return nil, &bodyError{err: err}
	}
	if len(data) > maxCostBody {
		return nil, &bodyError{err: fmt.Errorf("more than %d bytes", maxCostBody)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, nil
	}
	return v, nil
}

// compileBodyCosts adds to dims the dimensions that bodies estimate, checking that none also has a cost
// header. The caller sorts the dimensions after "requests" by name.
func compileBodyCosts(dims []dimension, headers map[string]string, bodies map[string]BodyCost) ([]dimension, error) {
	for name, b := range bodies {
		field := "BodyCosts[" + strconv.Quote(name) + "]"
		if !validName(name) {
			return nil, badField(field, name, "dimension %q is not a name (letters, digits, '.', '_', '-')", name)
		}
		if _, dup := headers[name]; dup {
			return nil, badField(field, name, "dimension %q also has a cost header (CostHeaders): want one of them", name)
		}
		if err := b.validate(field); err != nil {
			return nil, err
		}
		b.Members = slices.Clone(b.Members)
		if name == DimensionRequests {
			dims[0].body = &b
			continue
		}
		dims = append(dims, dimension{name: name, body: &b, openai: newOpenAINames(name)})
	}
	return dims, nil
}

// needsBody reports whether a dimension estimates costs from the body.
func needsBody(dims []dimension) bool {
	return slices.ContainsFunc(dims, func(d dimension) bool { return d.body != nil })
}
