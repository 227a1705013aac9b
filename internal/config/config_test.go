package config

import (
	"flag"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, _, err := Load(fs, args, func(k string) string { return env[k] })
	return c, err
}

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.BurstWindow != 2*time.Second || c.LLMConfigured() {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"BATON_HTTP_ADDR": "127.0.0.1:1", "BATON_BURST_WINDOW": "0"}, "--http-addr", "127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:2" {
		t.Errorf("HTTPAddr = %q; want the flag's value", c.HTTPAddr)
	}
	if c.BurstWindow != 0 {
		t.Errorf("BurstWindow = %s; want 0 from the environment", c.BurstWindow)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, env, value string
	}{
		{"database url", "BATON_DATABASE_URL", "mysql://x"},
		{"redis url", "BATON_REDIS_URL", "http://nope"},
		{"http addr", "BATON_HTTP_ADDR", "nocolon"},
		{"public url", "BATON_PUBLIC_URL", "example.com"},
		{"outbound url", "BATON_OUTBOUND_URL", "ftp://x"},
		{"burst window negative", "BATON_BURST_WINDOW", "-1s"},
		{"burst window not a duration", "BATON_BURST_WINDOW", "soon"},
		{"log level", "BATON_LOG_LEVEL", "chatty"},
		{"turn lease", "BATON_TURN_LEASE", "sometimes"},
		{"llm base url", "BATON_LLM_BASE_URL", "localhost:11434"},
		{"embedding dim too big", "BATON_EMBEDDING_DIM", "3072"},
		{"embedding dim not a number", "BATON_EMBEDDING_DIM", "big"},
		{"concurrency", "BATON_CONCURRENCY", "0"},
		{"lease ttl", "BATON_LEASE_TTL", "10ms"},
		{"fetch allow hosts: a URL", "BATON_FETCH_ALLOW_HOSTS", "http://wiki.internal"},
		{"fetch allow hosts: a bad port", "BATON_FETCH_ALLOW_HOSTS", "wiki.internal,10.0.0.5:http"},
		{"fetch allow hosts: port out of range", "BATON_FETCH_ALLOW_HOSTS", "10.0.0.5:70000"},
		{"fetch allow hosts: no host", "BATON_FETCH_ALLOW_HOSTS", ":8080"},
		{"metrics addr without a port", "BATON_METRICS_ADDR", "127.0.0.1"},
		{"metrics addr equal to the http addr", "BATON_METRICS_ADDR", "127.0.0.1:8080"},
		{"delivery send timeout too short", "BATON_DELIVERY_SEND_TIMEOUT", "10ms"},
		{"delivery in flight", "BATON_DELIVERY_IN_FLIGHT", "0"},
		{"delivery retry for", "BATON_DELIVERY_RETRY_FOR", "forever"},
		{"delivery sweep slower than 30s", "BATON_DELIVERY_SWEEP", "1m"},
		{"delivery order wait negative", "BATON_DELIVERY_ORDER_WAIT", "-1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, map[string]string{tt.env: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.env) {
				t.Fatalf("err = %v; want one naming %s", err, tt.env)
			}
		})
	}
}

func TestRedisURLFormsAsynqAccepts(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"redis://127.0.0.1:6379/2", "rediss://:pw@host:6380/0", "redis-socket:///tmp/r.sock", "redis-sentinel://:pw@h1:26379,h2:26379?master=mymaster"} {
		if _, err := load(t, map[string]string{"BATON_REDIS_URL": u}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestLogValueRedactsSecrets(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{
		"BATON_LLM_API_KEY":    "sk-very-secret",
		"BATON_WEBHOOK_SECRET": "whsec-very-secret",
		"BATON_DATABASE_URL":   "postgres://baton:hunter2@db:5432/baton",
		"BATON_REDIS_URL":      "redis://:redispw@127.0.0.1:6379/0",
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	out := b.String()
	for _, secret := range []string{"sk-very-secret", "whsec-very-secret", "hunter2", "redispw"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "db:5432") {
		t.Errorf("log line lost the non-secret parts: %s", out)
	}
}

func TestFetchAllowHostsAndMetricsSettings(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{
		"BATON_FETCH_ALLOW_HOSTS": " wiki.internal, 10.0.0.5:8080,,[::1]:9000, fd00::7 ",
		"BATON_METRICS_TOKEN":     "metrics-very-secret",
		"BATON_METRICS_ADDR":      "127.0.0.1:9090",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"wiki.internal", "10.0.0.5:8080", "[::1]:9000", "fd00::7"}; !slices.Equal(c.FetchAllowHosts, want) {
		t.Errorf("FetchAllowHosts = %q, want %q", c.FetchAllowHosts, want)
	}
	if c.MetricsToken != "metrics-very-secret" || c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("metrics settings %q %q", c.MetricsToken, c.MetricsAddr)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	if out := b.String(); strings.Contains(out, "metrics-very-secret") || !strings.Contains(out, "wiki.internal,10.0.0.5:8080") {
		t.Errorf("log line leaks the metrics token or loses the allow list: %s", out)
	}
	d, err := load(t, nil)
	if err != nil || d.FetchAllowHosts != nil || d.MetricsToken != "" || d.MetricsAddr != "" {
		t.Errorf("defaults: %+v, %v; want no allowed hosts and /metrics on the HTTP address", d, err)
	}
	for _, name := range []string{"BATON_FETCH_ALLOW_HOSTS", "BATON_METRICS_TOKEN", "BATON_METRICS_ADDR"} {
		if !strings.Contains(Usage(), name) {
			t.Errorf("usage does not document %s", name)
		}
	}
}
