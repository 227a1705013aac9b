package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/web"
)

// fakeDeadLetters is web.DeadLetters with function fields; nil ones find nothing.
type fakeDeadLetters struct {
	list func(limit int) ([]baton.DeadLetter, error)
	op   func(name, id string) error
	many func(name string, ids []string, all bool) (baton.BulkResult, error)
}

func (f *fakeDeadLetters) List(_ context.Context, limit int) ([]baton.DeadLetter, error) {
	if f.list == nil {
		return nil, nil
	}
	return f.list(limit)
}

func (f *fakeDeadLetters) call(name, id string) error {
	if f.op == nil {
		return baton.Errorf(baton.ErrNotFound, "not_found", "dead letter %q not found", id)
	}
	return f.op(name, id)
}

func (f *fakeDeadLetters) Retry(_ context.Context, id string) error   { return f.call("retry", id) }
func (f *fakeDeadLetters) Discard(_ context.Context, id string) error { return f.call("discard", id) }

func (f *fakeDeadLetters) bulk(name string, ids []string, all bool) (baton.BulkResult, error) {
	if f.many == nil {
		return baton.BulkResult{Done: []string{}, Failed: map[string]string{}}, nil
	}
	return f.many(name, ids, all)
}

func (f *fakeDeadLetters) RetryMany(_ context.Context, ids []string, all bool) (baton.BulkResult, error) {
	return f.bulk("retry", ids, all)
}

func (f *fakeDeadLetters) DiscardMany(_ context.Context, ids []string, all bool) (baton.BulkResult, error) {
	return f.bulk("discard", ids, all)
}

func TestDeadLetterAPI(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epoch))
	var calls []string
	fake := &fakeDeadLetters{
		list: func(limit int) ([]baton.DeadLetter, error) {
			return []baton.DeadLetter{{ID: "delivery:7", Kind: baton.DeadDelivery, Error: "receiver said 500", Attempts: 10}}, nil
		},
		op: func(name, id string) error {
			if id != "delivery:7" {
				return baton.Errorf(baton.ErrNotFound, "not_found", "dead letter %q not found", id)
			}
			calls = append(calls, name+" "+id)
			return nil
		},
		many: func(name string, ids []string, all bool) (baton.BulkResult, error) {
			calls = append(calls, name+" bulk")
			return baton.BulkResult{Done: ids, Failed: map[string]string{}}, nil
		},
	}
	s := web.New(web.Options{Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Auth: db, DB: db})
	s.MountOps(fake)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	ts := &testServer{Server: hs, web: s, db: db}
	_, admin := ts.user(t, baton.RoleAdmin)
	_, agent := ts.user(t, baton.RoleAgent)

	tests := []struct {
		name   string
		call   call
		status int
		code   string // error code, for errors
	}{
		{name: "list", call: call{method: "GET", path: "/v1/admin/failed", token: admin}, status: http.StatusOK},
		{name: "agents may not list", call: call{method: "GET", path: "/v1/admin/failed", token: agent}, status: http.StatusForbidden, code: "forbidden"},
		{name: "agents may not retry", call: call{method: "POST", path: "/v1/admin/failed/delivery:7/retry", token: agent}, status: http.StatusForbidden, code: "forbidden"},
		{name: "bad limit", call: call{method: "GET", path: "/v1/admin/failed?limit=0", token: admin}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "retry one", call: call{method: "POST", path: "/v1/admin/failed/delivery:7/retry", token: admin}, status: http.StatusNoContent},
		{name: "discard one", call: call{method: "POST", path: "/v1/admin/failed/delivery:7/discard", token: admin}, status: http.StatusNoContent},
		{name: "unknown id", call: call{method: "POST", path: "/v1/admin/failed/delivery:8/retry", token: admin}, status: http.StatusNotFound, code: "not_found"},
		{name: "bulk retry of ids", call: call{method: "POST", path: "/v1/admin/failed/retry", token: admin, body: map[string]any{"ids": []string{"delivery:7"}}}, status: http.StatusOK},
		{name: "bulk discard of all", call: call{method: "POST", path: "/v1/admin/failed/discard", token: admin, body: map[string]any{"all": true}}, status: http.StatusOK},
		{name: "bulk without ids or all", call: call{method: "POST", path: "/v1/admin/failed/retry", token: admin, body: map[string]any{}}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "bulk with ids and all", call: call{method: "POST", path: "/v1/admin/failed/retry", token: admin, body: map[string]any{"ids": []string{"delivery:7"}, "all": true}}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "bulk with an empty id", call: call{method: "POST", path: "/v1/admin/failed/retry", token: admin, body: map[string]any{"ids": []string{" "}}}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "bulk with an unknown field", call: call{method: "POST", path: "/v1/admin/failed/retry", token: admin, body: map[string]any{"everything": true}}, status: http.StatusBadRequest, code: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, tt.call)
			if tt.code != "" {
				r.wantError(t, tt.status, tt.code)
				return
			}
			r.wantStatus(t, tt.status)
		})
	}
	want := []string{"retry delivery:7", "discard delivery:7", "retry bulk", "discard bulk"}
	if len(calls) != len(want) {
		t.Fatalf("calls %v; want %v (nothing for refused requests)", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("calls %v; want %v", calls, want)
		}
	}
}
