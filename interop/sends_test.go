package interop

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWhatPeersSend records a burst above every quota at each peer and prints the headers of its first
// answer and of its first rejection: what the README's table of peers says, checked on every run. Virtual
// peers are recorded in a bubble, the others in real time.
func TestWhatPeersSend(t *testing.T) {
	s := Schedule{Name: "burst", Phase: 300 * time.Millisecond, Offsets: concat(repeat(0, 60), []time.Duration{1100e6})}
	for _, p := range AllPeers() {
		if p.Policy != PerSecond50 {
			continue
		}
		t.Run(p.Name(), func(t *testing.T) {
			var tr Trace
			var err error
			if p.Virtual {
				synctest.Test(t, func(t *testing.T) { tr, err = RecordPeer(context.Background(), p, s) })
			} else {
				t.Parallel()
				tr, err = RecordPeer(context.Background(), p, s)
			}
			skipIfMissing(t, err)
			require.NoError(t, err)
			first, rejected := tr.Requests[0], -1
			for i, x := range tr.Requests {
				if x.Status != 200 && rejected < 0 {
					rejected = i
				}
			}
			t.Logf("first answer: %d %v", first.Status, first.Headers)
			burst := time.Duration(tr.Requests[59].At - first.At)
			switch {
			case rejected >= 0:
				x := tr.Requests[rejected]
				t.Logf("first rejection (request %d at %v): %d %v", rejected+1, time.Duration(x.At), x.Status, x.Headers)
				assert.Equal(t, 429, x.Status)
			case p.Algorithm == LeakyQueueNginx:
				t.Log("nginx without nodelay delays one request at a time, it does not reject it")
			case p.Virtual || burst < 500*time.Millisecond:
				// 60 requests in half a second are above every quota of 50/s.
				t.Errorf("no rejection of 60 requests in %v", burst)
			default:
				t.Logf("no rejection: this machine took %v to send the burst", burst)
			}
			last := tr.Requests[len(tr.Requests)-1]
			t.Logf("at %v: %d %v", time.Duration(last.At), last.Status, last.Headers)
			if p.Virtual {
				assert.Equal(t, 200, last.Status, "1.1 s later every peer has room again")
			}
			for _, x := range tr.Requests {
				assert.Contains(t, []int{200, 429}, x.Status)
			}
		})
	}
}
