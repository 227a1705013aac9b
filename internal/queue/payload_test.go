package queue

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
)

// The files in testdata/payloads are payloads as earlier builds stored them in Redis and in the
// outbox (before payloads carried a version); a worker of this build must still run them.
func TestOldPayloadsKeepDecoding(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tt := range []struct {
		file, typ string
		want      baton.TaskPayload
	}{
		{"turn_v1.json", TypeTurn, baton.TaskPayload{ConversationID: 7, MessageID: 42}},
		{"deliver_v1.json", TypeDeliver, baton.TaskPayload{ConversationID: 7, MessageID: 43}},
	} {
		got, err := DecodeTask(asynq.NewTask(tt.typ, read(tt.file)))
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.file, got, err, tt.want)
		}
	}
	kb, err := decodeKB(asynq.NewTask(TypeKBEmbed, read("kb_embed_v1.json")))
	if err != nil || kb.ArticleID != 3 || kb.Version != 2 {
		t.Errorf("kb_embed_v1.json: %+v, %v", kb, err)
	}

	// A payload of a newer build is retried (an upgraded worker takes it), not dropped.
	_, err = DecodeTask(asynq.NewTask(TypeTurn, read("turn_v2.json")))
	var newer *NewerPayloadError
	if !errors.As(err, &newer) || newer.Version != 2 || errors.Is(err, asynq.SkipRetry) {
		t.Errorf("turn_v2.json: %v; want a retried NewerPayloadError", err)
	}
	// A malformed one can never succeed.
	for _, raw := range []string{`{`, `{"conversation_id":7}`, `{"v":0,"message_id":1}`, `{"v":"1","message_id":1}`} {
		if _, err := DecodeTask(asynq.NewTask(TypeTurn, []byte(raw))); !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("%s: %v; want SkipRetry", raw, err)
		}
	}
}

func TestPayloadsCarryTheirVersion(t *testing.T) {
	t.Parallel()
	raw, err := json.Marshal(baton.TaskPayload{ConversationID: 1, MessageID: 2})
	if err != nil || string(raw) != `{"v":1,"conversation_id":1,"message_id":2}` {
		t.Fatalf("payload %s (%v)", raw, err)
	}
	got, err := DecodeTask(asynq.NewTask(TypeTurn, raw))
	if err != nil || got != (baton.TaskPayload{ConversationID: 1, MessageID: 2}) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	task, _ := NewKBImportTask(Queues{}, 9)
	var p struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.V != baton.TaskPayloadVersion {
		t.Fatalf("knowledge payload %s lacks its version", task.Payload())
	}
}
