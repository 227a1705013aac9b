package baton

import (
	"testing"
	"time"
)

func TestTurnStateDebounce(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	const window = 2 * time.Second
	later := now.Add(time.Minute)
	st := TurnState{Pending: []Message{
		{ID: 1, CreatedAt: now.Add(-3 * time.Second)},
		{ID: 2, CreatedAt: now.Add(-1 * time.Second)},
	}}
	tests := []struct {
		name string
		st   TurnState
		msg  int64
		want Debounce
	}{
		{"newer message inside the window", st, 1, Debounce{Newer: true, LeaseFree: true}},
		{"newest message, window not closed", st, 2, Debounce{Early: time.Second, LeaseFree: true}},
		{"answered or gone", st, 3, Debounce{Answered: true, LeaseFree: true}},
		{"lease held", TurnState{Pending: st.Pending[:1], LeaseUntil: &later}, 1, Debounce{}},
		{"lease expired", TurnState{Pending: st.Pending[:1], LeaseUntil: &now}, 1, Debounce{LeaseFree: true}},
	}
	for _, tt := range tests {
		if got := tt.st.Debounce(tt.msg, window, now); got != tt.want {
			t.Errorf("%s: %+v; want %+v", tt.name, got, tt.want)
		}
	}
}
