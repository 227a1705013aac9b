package handoff_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/batonhq/baton/handoff"
)

func TestSignCoversTimestampAndBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event":"handoff.created","handoff_id":1}`)
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("1700000000." + string(body)))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := handoff.Sign("k", "1700000000", body); got != want {
		t.Errorf("Sign = %s; want %s", got, want)
	}
	if handoff.Sign("k", "1700000001", body) == want || handoff.Sign("other", "1700000000", body) == want {
		t.Error("another timestamp or secret gives the same signature")
	}
}
