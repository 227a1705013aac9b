package queue

import (
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
)

// NewerPayloadError is a task written by a newer build than this worker's: during a rolling
// upgrade, a newer worker takes it on a retry. It is retried, never dropped.
type NewerPayloadError struct {
	Type    string
	Version int
}

func (e *NewerPayloadError) Error() string {
	return fmt.Sprintf("%s payload version %d is newer than this worker's %d: left for an upgraded worker", e.Type, e.Version, baton.TaskPayloadVersion)
}

// payloadVersion reads a payload's "v" (absent: 1, the format of every release before versions).
func payloadVersion(raw []byte) (int, error) {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return 0, err
	}
	if head.V == nil {
		return 1, nil
	}
	if *head.V < 1 {
		return 0, fmt.Errorf("payload version %d", *head.V)
	}
	return *head.V, nil
}

// DecodeTask decodes a turn or deliver task's payload of any version up to
// baton.TaskPayloadVersion. A malformed payload is permanent (asynq.SkipRetry); a newer one is
// a *NewerPayloadError, retried.
func DecodeTask(t *asynq.Task) (baton.TaskPayload, error) {
	var p baton.TaskPayload
	v, err := payloadVersion(t.Payload())
	if err == nil && v > baton.TaskPayloadVersion {
		return p, &NewerPayloadError{Type: t.Type(), Version: v}
	}
	// Version 1 is the only one so far; a version 2 decodes here beside it.
	if err == nil {
		err = json.Unmarshal(t.Payload(), &p)
	}
	if err != nil || p.MessageID == 0 {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return p, nil
}
