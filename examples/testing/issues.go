package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/ratekit/ratekit"
)

// This file is the "user code" of the recipe: a small client of a GitHub-like API, as an application would
// have. Nothing in it knows about the mock server. Its one seam for tests is the base RoundTripper under
// ratekit: production passes nil (the network), tests pass a server's transport or an in-memory one.

// Issue is an issue of a repository.
type Issue struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
}

// IssuesClient reads the issues of one repository. It is safe for concurrent use.
type IssuesClient struct {
	baseURL string // "https://api.github.com/repos/OWNER/REPO"
	token   string
	http    *http.Client
}

// NewIssuesClient returns a client of the repository at baseURL that authenticates with token. Its requests go
// through a ratekit.Transport over base (nil: http.DefaultTransport), so it keeps within the API's rate
// limit by itself.
func NewIssuesClient(baseURL, token string, base http.RoundTripper) *IssuesClient {
	return &IssuesClient{baseURL: baseURL, token: token, http: &http.Client{Transport: &ratekit.Transport{Base: base}}}
}

// Issue fetches one issue.
func (c *IssuesClient) Issue(ctx context.Context, number int) (Issue, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/issues/%d", c.baseURL, number), nil)
	if err != nil {
		return Issue{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return Issue{}, fmt.Errorf("issue %d: %w", number, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		if why := ratekit.GiveUpReason(resp); why != nil {
			return Issue{}, fmt.Errorf("issue %d: %s (%w)", number, resp.Status, why)
		}
		return Issue{}, fmt.Errorf("issue %d: %s", number, resp.Status)
	}
	var issue Issue
	if err := json.NewDecoder(resp.Body).Decode(&issue); err != nil {
		return Issue{}, fmt.Errorf("issue %d: %w", number, err)
	}
	return issue, nil
}

// Issues fetches the issues numbered numbers with workers requests at a time, and returns them in the order
// of numbers. It stops at the first error and returns it.
func (c *IssuesClient) Issues(ctx context.Context, numbers []int, workers int) ([]Issue, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	issues := make([]Issue, len(numbers))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(numbers) && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				issue, err := c.Issue(ctx, numbers[i])
				if err != nil {
					cancel(err)
					return
				}
				issues[i] = issue
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return issues, nil
}
