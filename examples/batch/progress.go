package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// progress shows how far the batch is. done is called after each request, from any worker; close once,
// after the last.
type progress interface {
	done()
	close()
}

// newProgress makes the display for mode (see progressModes): a bar on a terminal, a plain line every 10%
// elsewhere (a CI log, a file, a pipe), where a bar's redraws would be noise. status describes the quota
// and the current wait.
func newProgress(mode string, w io.Writer, n int, status func() string) progress {
	if mode == progressAuto {
		mode = progressLines
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = progressBar
		}
	}
	switch mode {
	case progressBar:
		return newBar(w, n, status)
	case progressLines:
		return &lineProgress{w: w, n: n, every: max(n/10, 1), status: status, start: time.Now()}
	}
	return noProgress{}
}

// barProgress is an mpb progress bar with a status line under it:
//
//	requests 120/300 [===============>------------------------]  40 % 8s
//	core 0/100 left, resets in 1.9s; waiting 1.9s (pacing to a quota (core/requests))
type barProgress struct {
	p      *mpb.Progress
	bar    *mpb.Bar
	status *mpb.Bar // a bar without a filler: one line of text
}

func newBar(w io.Writer, n int, status func() string) *barProgress {
	// mpb redraws on its own only on a terminal; WithAutoRefresh makes -progress bar draw anywhere.
	p := mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh())
	bar := p.AddBar(int64(n), mpb.BarWidth(40),
		mpb.PrependDecorators(decor.Name("requests "), decor.CountersNoUnit("%d/%d")),
		mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.Name(" "), decor.Elapsed(decor.ET_STYLE_GO)),
	)
	line := p.New(1, mpb.NopStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return status() })))
	return &barProgress{p: p, bar: bar, status: line}
}

func (b *barProgress) done() { b.bar.Increment() }

func (b *barProgress) close() {
	if !b.bar.Completed() {
		b.bar.Abort(false) // interrupted: leave the bar where it stopped
	}
	b.status.Increment() // complete: its last frame stays
	b.p.Wait()
}

// lineProgress writes a line every tenth of the batch: "progress: 120/300 after 8.1s; core 0/100 left, ...".
type lineProgress struct {
	w      io.Writer
	n      int
	every  int
	status func() string
	start  time.Time

	mu       sync.Mutex
	finished int // guarded by mu
}

func (l *lineProgress) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finished++
	if l.finished%l.every == 0 || l.finished == l.n {
		fmt.Fprintf(l.w, "progress: %d/%d after %s; %s\n", l.finished, l.n,
			time.Since(l.start).Round(100*time.Millisecond), l.status())
	}
}

func (l *lineProgress) close() {}

// noProgress shows nothing (-progress off).
type noProgress struct{}

func (noProgress) done()  {}
func (noProgress) close() {}
