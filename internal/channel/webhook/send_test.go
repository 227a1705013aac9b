package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

// A failure after the request was written may have reached the receiver (unknown); one before
// it cannot have (plain retry).
func TestSendFailureAfterTheRequestIsUnknown(t *testing.T) {
	t.Parallel()
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // read it all, then hang up without answering
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(hangUp.Close)
	// A port with nothing listening: the connection is refused before anything is written.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name      string
		url       string
		afterSend bool
	}{
		{name: "connection closed after the request", url: hangUp.URL, afterSend: true},
		{name: "connection refused", url: refused, afterSend: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := &Adapter{Secrets: []string{"s"}, OutboundURL: tt.url}
			_, err := w.Send(context.Background(), baton.Outbound{MessageID: 1})
			var se *channel.SendError
			if !errors.As(err, &se) || se.Permanent || se.AfterSend != tt.afterSend {
				t.Fatalf("err %#v; want a retryable SendError with AfterSend %v", err, tt.afterSend)
			}
		})
	}
}
