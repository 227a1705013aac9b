package intents

import (
	"errors"
	"testing"
)

func TestParseLLM(t *testing.T) {
	t.Parallel()
	known := DefaultIntents()
	tests := []struct {
		name    string
		raw     string
		wantErr bool
		check   func(t *testing.T, r Result)
	}{
		{name: "valid", raw: `{"intent":"order_status","score":0.92,"details":[{"type":"order_number","value":"a-10293"},{"type":"email","value":"Ana@Example.com"}],"sentiment":{"score":-0.4},"language":"en"}`,
			check: func(t *testing.T, r Result) {
				if r.Intent != "order_status" || r.Score != 0.92 || r.OutOfScope {
					t.Errorf("intent = %+v", r)
				}
				if len(r.Details) != 2 || !r.Details[0].Valid || r.Details[0].Value != "Ana@example.com" || r.Details[1].Value != "A-10293" {
					t.Errorf("details = %+v", r.Details)
				}
				if r.Sentiment == nil || r.Sentiment.Label != "negative" {
					t.Errorf("sentiment = %+v", r.Sentiment)
				}
			}},
		{name: "unknown intent inside a fence", raw: "```json\n{\"intent\":\"refund\",\"score\":1.7}\n```", wantErr: true},
		{name: "fenced valid clamps", raw: "```json\n{\"intent\":\"complaint\",\"score\":1.7,\"top\":[{\"intent\":\"complaint\",\"score\":-2},{\"intent\":\"made_up\",\"score\":0.5}],\"sentiment\":{\"score\":-3}}\n```",
			check: func(t *testing.T, r Result) {
				if r.Score != 1 {
					t.Errorf("score %v not clamped to 1", r.Score)
				}
				if len(r.Top) != 1 || r.Top[0].Score != 0 {
					t.Errorf("top = %+v, want the known intent only, clamped to 0", r.Top)
				}
				if r.Sentiment.Score != -1 {
					t.Errorf("sentiment %v not clamped to -1", r.Sentiment.Score)
				}
			}},
		{name: "details as object, invalid kept as invalid", raw: `{"intent":"billing_problem","details":{"email":"ana@example","money":"$49.99","shoe_size":"42"}}`,
			check: func(t *testing.T, r Result) {
				if len(r.Details) != 2 {
					t.Fatalf("details = %+v, want email and money (unknown types dropped)", r.Details)
				}
				email, money := r.Details[0], r.Details[1]
				if email.Valid || email.Problem == "" {
					t.Errorf("invalid email accepted: %+v", email)
				}
				if !money.Valid || money.Value != "49.99 USD" {
					t.Errorf("money = %+v", money)
				}
				if r.Score != 1 {
					t.Errorf("missing score = %v, want 1", r.Score)
				}
			}},
		{name: "out of scope", raw: `{"intent":"out_of_scope","score":0.8}`,
			check: func(t *testing.T, r Result) {
				if !r.OutOfScope || r.Intent != OutOfScope {
					t.Errorf("got %+v, want out of scope", r)
				}
			}},
		{name: "unknown intent", raw: `{"intent":"buy_a_boat","score":0.9}`, wantErr: true},
		{name: "missing intent", raw: `{"score":0.9}`, wantErr: true},
		{name: "malformed", raw: `{"intent":"greeting",`, wantErr: true},
		{name: "not json", raw: `Sure! The intent is greeting.`, wantErr: true},
		{name: "details wrong shape", raw: `{"intent":"greeting","details":"none"}`, wantErr: true},
		{name: "NaN-like huge score", raw: `{"intent":"greeting","score":1e308}`,
			check: func(t *testing.T, r Result) {
				if r.Score != 1 {
					t.Errorf("score = %v", r.Score)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseLLM([]byte(tt.raw), known)
			if tt.wantErr {
				if !errors.Is(err, ErrLLMOutput) {
					t.Fatalf("ParseLLM error = %v, want ErrLLMOutput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLLM: %v", err)
			}
			tt.check(t, r)
		})
	}
}
