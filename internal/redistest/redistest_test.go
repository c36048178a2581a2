package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain checks that no goroutine (the process waiters, the clients' pools) outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// timeoutCtx returns a context for one command.
func timeoutCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestStartServesAndKeepsNothingOnDisk(t *testing.T) {
	s := Start(t)
	rdb := s.Client()
	ctx := timeoutCtx(t, 5*time.Second)
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET k = %q, %v", v, err)
	}
	cfg, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["save"] != "" || cfg["appendonly"] != "no" || cfg["bind"] != "127.0.0.1" {
		t.Errorf("save %q appendonly %q bind %q; want no snapshots, no AOF, loopback only", cfg["save"], cfg["appendonly"], cfg["bind"])
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":6379") {
		t.Errorf("Addr() = %s, want a free port of 127.0.0.1", s.Addr())
	}
}

func TestTwoServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
	ctx := timeoutCtx(t, 5*time.Second)
	if err := a.Client().Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Client().Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET k on the other server: %v, want redis.Nil", err)
	}
}

func TestPauseMakesCommandsTimeOutAndResumeAnswersThem(t *testing.T) {
	s := Start(t)
	rdb := s.Client()
	if err := rdb.Ping(timeoutCtx(t, 5*time.Second)).Err(); err != nil {
		t.Fatal(err)
	}
	s.Pause()
	err := rdb.Ping(timeoutCtx(t, 50*time.Millisecond)).Err()
	if err == nil {
		t.Fatal("PING to a paused server succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
		t.Errorf("PING to a paused server: %v, want a timeout", err)
	}
	s.Resume()
	if err := rdb.Ping(timeoutCtx(t, 5*time.Second)).Err(); err != nil {
		t.Errorf("PING after Resume: %v", err)
	}
}

func TestKillThenRestartComesBackEmptyOnTheSameAddress(t *testing.T) {
	s := Start(t)
	addr := s.Addr()
	rdb := s.Client()
	if err := rdb.Set(timeoutCtx(t, 5*time.Second), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := rdb.Ping(timeoutCtx(t, 5*time.Second)).Err(); err == nil {
		t.Fatal("PING to a killed server succeeded")
	}
	s.Kill() // a second Kill does nothing
	s.Restart()
	if s.Addr() != addr {
		t.Errorf("Restart moved the server from %s to %s", addr, s.Addr())
	}
	ctx := timeoutCtx(t, 5*time.Second)
	if err := rdb.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET k after a restart: %v, want redis.Nil (nothing persisted)", err)
	}
	s.Stop()
	if err := ping(addr); err == nil {
		t.Error("the server answers PING after Stop")
	}
}

func TestStartCluster(t *testing.T) {
	c := StartCluster(t, 3)
	if len(c.Nodes()) != 3 || len(c.Addrs()) != 3 {
		t.Fatalf("%d nodes, %d addresses", len(c.Nodes()), len(c.Addrs()))
	}
	rdb := c.Client().(*redis.ClusterClient)
	ctx := timeoutCtx(t, 10*time.Second)
	// Keys spread over every master; a hash tag keeps keys together.
	for i := range 30 {
		k := fmt.Sprint("key-", i)
		if err := rdb.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	var mu sync.Mutex
	perMaster := map[string]int64{}
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		mu.Lock()
		perMaster[m.Options().Addr] = n
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(perMaster) != 3 {
		t.Fatalf("keys on %d masters, want 3: %v", len(perMaster), perMaster)
	}
	for addr, n := range perMaster {
		if n == 0 {
			t.Errorf("master %s holds no key of 30: %v", addr, perMaster)
		}
	}
	if err := rdb.MSet(ctx, "{user1}:a", 1, "{user1}:b", 2).Err(); err != nil {
		t.Errorf("MSET of two keys with one hash tag: %v", err)
	}
}

// recordingTB is a testing.TB that records Skip and Fatal instead of acting on the real test.
type recordingTB struct {
	testing.TB
	mu             sync.Mutex
	skipped, fatal string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// startWithout runs Start with an empty PATH on its own goroutine (Skip and Fatal end it) and reports what
// happened.
func startWithout(t *testing.T) *recordingTB {
	t.Setenv("PATH", t.TempDir())
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(rec)
		t.Error("Start returned without redis-server")
	}()
	<-done
	return rec
}

func TestMissingRedisServerSkipsOrFails(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Log("(redis-server is not installed here either)")
	}
	t.Run("skips", func(t *testing.T) {
		t.Setenv(RequireEnv, "")
		os.Unsetenv(RequireEnv)
		rec := startWithout(t)
		if rec.fatal != "" || !strings.Contains(rec.skipped, "redis-server is not installed") ||
			!strings.Contains(rec.skipped, RequireEnv) {
			t.Errorf("skipped %q, fatal %q; want a skip that names %s", rec.skipped, rec.fatal, RequireEnv)
		}
	})
	t.Run("fails when required", func(t *testing.T) {
		t.Setenv(RequireEnv, "1")
		rec := startWithout(t)
		if rec.skipped != "" || !strings.Contains(rec.fatal, "redis-server is not installed") ||
			!strings.Contains(rec.fatal, "apt-get install redis-server") {
			t.Errorf("skipped %q, fatal %q; want a failure that says how to install Redis", rec.skipped, rec.fatal)
		}
	})
}
