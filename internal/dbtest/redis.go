package dbtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/queue"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// RedisURL is the shared Redis of the test run (BATON_TEST_REDIS_URL overrides it). Tests
// isolate themselves by queue name; they never flush it.
func RedisURL() string {
	if u := os.Getenv("BATON_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// QueuePrefix returns a queue-name prefix unique to t, and removes its queues when t ends.
func QueuePrefix(t testing.TB, redisURL string) string {
	t.Helper()
	prefix := fmt.Sprintf("t%d-%s", time.Now().UnixNano()%1e9, strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()))
	if len(prefix) > 60 {
		prefix = prefix[:60]
	}
	t.Cleanup(func() { DeleteQueues(redisURL, prefix) })
	return prefix
}

// DeleteQueues removes the asynq queues of a prefix (and only those).
func DeleteQueues(redisURL, prefix string) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return
	}
	queue.DeletePrefixed(opt, prefix)
}

// PrivateRedis is a redis-server of one test, on a unix socket, that the test can stop and
// start again to simulate an outage.
type PrivateRedis struct {
	Socket string
	dir    string
	cmd    *exec.Cmd
	t      testing.TB
}

// StartRedis starts a private redis-server on a unix socket; it is stopped when t ends.
func StartRedis(t testing.TB) *PrivateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not installed (run scripts/setup.sh): %v", err)
	}
	dir, err := os.MkdirTemp("", "baton-redis-")
	if err != nil {
		t.Fatal(err)
	}
	r := &PrivateRedis{Socket: filepath.Join(dir, "redis.sock"), dir: dir, t: t}
	r.Start()
	t.Cleanup(func() {
		r.Stop()
		os.RemoveAll(dir)
	})
	return r
}

// URL is the asynq URI of the private server.
func (r *PrivateRedis) URL() string { return "redis-socket://" + r.Socket }

// Start (re)starts the server and waits until it answers.
func (r *PrivateRedis) Start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", "0", "--unixsocket", r.Socket, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: r.Socket})
	defer c.Close()
	for i := 0; i < 100; i++ {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("private redis-server did not start")
}

// Stop kills the server (an outage).
func (r *PrivateRedis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Kill() //nolint:errcheck
	r.cmd.Wait()         //nolint:errcheck
	os.Remove(r.Socket)
	r.cmd = nil
}
