package interop

import (
	"context"
	"testing"
	"testing/synctest"
)

func TestGoPeersProbe(t *testing.T) {
	for _, p := range GoPeers() {
		t.Run(p.Name(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, err := RunBatch(context.Background(), p, RatekitClient, 200, 8)
				if err != nil {
					t.Fatal(err)
				}
				t.Log(r)
			})
		})
	}
}
