package interop

import (
	"context"
	"testing"
)

func TestRealPeersProbe(t *testing.T) {
	var ps []Peer
	ps = append(ps, RedisPeers()...)
	ps = append(ps, NginxPeers()...)
	ps = append(ps, NodePeers()...)
	ps = append(ps, GoLimiter(PerSecond50), GoLimiter(PerSecond10))
	for _, p := range ps {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			n := 200
			if p.Policy.Limit == 10 {
				n = 60
			}
			r, err := RunBatch(context.Background(), p, RatekitClient, n, 8)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
		})
	}
}
