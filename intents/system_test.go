package intents

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
)

// memStore is a hand-written Store kept in memory; internal/postgres tests the real one.
type memStore struct {
	mu      sync.Mutex
	intents []Intent
	types   []DetailType
	version int
}

func (s *memStore) ListIntents(context.Context) ([]Intent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.intents), nil
}

func (s *memStore) SaveIntents(_ context.Context, _ int64, list []Intent, create bool) (added, updated int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range list {
		i := slices.IndexFunc(s.intents, func(x Intent) bool { return x.Name == in.Name })
		switch {
		case i >= 0 && create:
			return 0, 0, baton.Errorf(baton.ErrConflict, "conflict", "exists")
		case i >= 0:
			s.intents[i], updated = in, updated+1
		default:
			s.intents, added = append(s.intents, in), added+1
		}
	}
	s.version++
	return added, updated, nil
}

func (s *memStore) DeleteIntent(_ context.Context, _ int64, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intents = slices.DeleteFunc(s.intents, func(x Intent) bool { return x.Name == name })
	s.version++
	return nil
}

func (s *memStore) ListDetailTypes(context.Context) ([]DetailType, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.types), nil
}

func (s *memStore) SaveDetailTypes(_ context.Context, _ int64, list []DetailType) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	created := 0
	for _, d := range list {
		if i := slices.IndexFunc(s.types, func(x DetailType) bool { return x.Name == d.Name }); i >= 0 {
			s.types[i] = d
		} else {
			s.types, created = append(s.types, d), created+1
		}
	}
	s.version++
	return created, nil
}

func (s *memStore) DeleteDetailType(_ context.Context, _ int64, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.types = slices.DeleteFunc(s.types, func(x DetailType) bool { return x.Name == name })
	s.version++
	return nil
}

func (s *memStore) IntentsVersion(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.version), nil
}

// adminIntents are ten intents of a business that defines none of the built-ins.
func adminIntents() []Intent {
	topics := []struct{ name, a, b, c string }{
		{"opening_hours", "when are you open", "what are your opening hours", "are you open on sunday"},
		{"pricing", "how much does it cost", "what are your prices", "is there a discount"},
		{"membership_upgrade", "upgrade my membership", "how do i become gold member", "change my membership tier"},
		{"reset_login", "i forgot my login", "reset my username", "i cannot sign in"},
		{"store_location", "where is your store", "what is your address", "how do i find the shop"},
		{"gift_cards", "do you sell gift cards", "can i buy a voucher", "gift card balance"},
		{"delivery_time", "how long does delivery take", "when will it ship", "delivery estimate"},
		{"warranty", "is there a warranty", "my product broke after a month", "warranty claim"},
		{"careers", "are you hiring", "job openings", "how do i apply for a job"},
		{"newsletter", "unsubscribe me from emails", "sign me up for the newsletter", "stop sending me promotions"},
	}
	var out []Intent
	for _, tp := range topics {
		out = append(out, Intent{Name: tp.name, Examples: []string{tp.a, tp.b, tp.c}, Action: ActionAnswer})
	}
	return out
}

func TestImportKeepsBuiltins(t *testing.T) {
	t.Parallel()
	store := &memStore{}
	cat, err := NewCatalog(t.Context(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cat.Import(t.Context(), 0, Import{Intents: adminIntents()})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Added != 10 || res.Known != 16 || res.Builtins != 6 {
		t.Errorf("Import = %+v, want 10 added, 16 known, 6 built-in", res)
	}
	// Another process loads what was stored: it must know exactly the same intents.
	other, err := NewCatalog(t.Context(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := names(cat.List()), names(other.List()); !slices.Equal(a, b) {
		t.Errorf("importing process knows %v, a fresh process %v", a, b)
	}
	tests := []struct{ text, want string }{
		{"Hi", "greeting"},
		{"ok thanks", "thanks"},
		{"sure, thank you", "thanks"},
		{"ok", "thanks"},
		{"got it", "thanks"},
		{"great", "thanks"},
		{"👍", "thanks"},
		{"can I talk to a human", "talk_to_human"},
		{"agent please", "talk_to_human"},
		{"are you a bot?", "are_you_a_bot"},
		{"am I talking to a real person?", "are_you_a_bot"},
		{"bye", "goodbye"},
		{"when are you open on saturday", "opening_hours"},
	}
	for _, tt := range tests {
		for _, c := range []*Catalog{cat, other} {
			if a := c.Model().Understand(tt.text, ExtractContext{}); a.Intent != tt.want {
				t.Errorf("Understand(%q) = %s (%.2f, %v), want %s", tt.text, a.Intent, a.Score, a.Top, tt.want)
			}
		}
	}
}

func names(list []Intent) []string {
	var out []string
	for _, in := range list {
		out = append(out, in.Name)
	}
	slices.Sort(out)
	return out
}

func TestBuiltinOverride(t *testing.T) {
	t.Parallel()
	store := &memStore{}
	cat, err := NewCatalog(t.Context(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	mine := Intent{Name: "greeting", Examples: []string{"howdy partner"}, Action: ActionReply, Reply: "Howdy!"}
	if _, err := cat.Import(t.Context(), 0, Import{Intents: append(adminIntents(), mine)}); err != nil {
		t.Fatal(err)
	}
	got, err := cat.Get("greeting")
	if err != nil {
		t.Fatal(err)
	}
	if got.Reply != "Howdy!" || !slices.Contains(got.Examples, "howdy partner") || !slices.Contains(got.Examples, "hello") {
		t.Errorf("greeting = %+v, want the admin's reply and the union of examples", got)
	}
	// An override without an action keeps the built-in's.
	if _, _, err := cat.Save(t.Context(), 0, []Intent{{Name: "thanks", Examples: []string{"much obliged"}}}, false); err != nil {
		t.Fatal(err)
	}
	if th, _ := cat.Get("thanks"); th.Action != ActionReply || th.Reply == "" {
		t.Errorf("thanks = %+v, want the built-in reply action", th)
	}
	if len(cat.List()) != 16 {
		t.Errorf("classifier knows %d intents, want 16", len(cat.List()))
	}
	err = cat.Delete(t.Context(), 0, "greeting")
	if !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), "built-in") {
		t.Errorf("Delete(greeting) = %v, want a refusal naming the built-in", err)
	}
	if err := cat.Delete(t.Context(), 0, "careers"); err != nil {
		t.Errorf("Delete(careers): %v", err)
	}
}

func TestCatalogDetailTypes(t *testing.T) {
	t.Parallel()
	store := &memStore{}
	cat, err := NewCatalog(t.Context(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	reset := Intent{Name: "reset_login", Examples: []string{"reset my login", "i forgot my username"}, RequiredDetails: []string{"username"}, Action: ActionGatherThenHandoff}
	if _, _, err := cat.Save(t.Context(), 0, []Intent{reset}, false); !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), `"username"`) {
		t.Fatalf("saving an intent with an unknown detail = %v, want 400 naming it", err)
	}
	if _, _, err := cat.SaveDetailType(t.Context(), 0, DetailType{Name: "username", Pattern: `\w+`}); !errors.Is(err, baton.ErrInvalid) {
		t.Errorf("a type without ask texts = %v, want ErrInvalid", err)
	}
	d, created, err := cat.SaveDetailType(t.Context(), 0, shopTypes[1])
	if err != nil || !created || d.Label != "username" {
		t.Fatalf("SaveDetailType = %+v %v %v", d, created, err)
	}
	if _, _, err := cat.Save(t.Context(), 0, []Intent{reset}, false); err != nil {
		t.Fatalf("Save with the type defined: %v", err)
	}
	if got, ok := cat.Model().DetailType("username"); !ok || got.Builtin {
		t.Errorf("Model.DetailType(username) = %+v %v", got, ok)
	}
	if got, ok := cat.Model().DetailType(DetailEmail); !ok || !got.Builtin {
		t.Errorf("Model.DetailType(email) = %+v %v", got, ok)
	}
	if err := cat.DeleteDetailType(t.Context(), 0, "username"); !errors.Is(err, baton.ErrConflict) {
		t.Errorf("deleting a required type = %v, want ErrConflict", err)
	}
	if err := cat.DeleteDetailType(t.Context(), 0, DetailEmail); !errors.Is(err, baton.ErrInvalid) {
		t.Errorf("deleting a built-in type = %v, want ErrInvalid", err)
	}
	// The model uses the stored types for extraction, and another process sees them.
	a := cat.Model().Understand("my username is ana_88", ExtractContext{})
	if d, ok := First(a.Details, "username"); !ok || d.Value != "ana_88" {
		t.Errorf("Understand details = %+v, want username ana_88", a.Details)
	}
	other, err := NewCatalog(t.Context(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Model().DetailType("username"); !ok {
		t.Error("a fresh catalog does not know the stored detail type")
	}
	// Refresh picks up a change made elsewhere.
	if _, err := store.SaveDetailTypes(t.Context(), 0, []DetailType{shopTypes[0]}); err != nil {
		t.Fatal(err)
	}
	if err := cat.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.Model().DetailType("zip_code"); !ok {
		t.Error("Refresh did not load the new detail type")
	}
}

func TestOrderPatternOfOpenIntent(t *testing.T) {
	t.Parallel()
	list := WithBuiltins([]Intent{
		{Name: "order_status", Examples: []string{"where is my order", "track my parcel"}, OrderPattern: `(?i)\b(shop/\d{4}/\d{4})\b`, Action: ActionAnswer},
		{Name: "faq", Examples: []string{"what are your opening hours", "do you sell gift cards"}, Action: ActionAnswer},
	})
	m, err := NewModel(list, Options{})
	if err != nil {
		t.Fatal(err)
	}
	re := m.OrderPattern("order_status")
	if re == nil || m.OrderPattern("faq") != nil {
		t.Fatalf("OrderPattern = %v / %v", re, m.OrderPattern("faq"))
	}
	a := m.Understand("it is SHOP/2024/0042", ExtractContext{OrderPattern: re})
	if d, ok := First(a.Details, DetailOrderNumber); !ok || d.Value != "SHOP/2024/0042" {
		t.Errorf("details = %+v, want the open intent's order number", a.Details)
	}
}

// One-word acknowledgements are matched exactly, so the classifier does not learn that every
// one-word message is one.
func TestShortRepliesAreNotAllAcknowledgements(t *testing.T) {
	t.Parallel()
	m, err := NewModel(WithBuiltins(DefaultIntents()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"pizza", "asdf", "tomorrow", "weather", "maybe"} {
		if a := m.Understand(text, ExtractContext{}); a.Intent == "thanks" {
			t.Errorf("Understand(%q) = thanks (%.2f), want no acknowledgement", text, a.Score)
		}
	}
	for _, text := range []string{"ok", "Okay.", "great!", "👍", "cool", "perfect", "alright"} {
		if a := m.Understand(text, ExtractContext{}); a.Intent != "thanks" {
			t.Errorf("Understand(%q) = %s (%.2f), want thanks", text, a.Intent, a.Score)
		}
	}
}

func TestInPersonIsNoRequestForAPerson(t *testing.T) {
	t.Parallel()
	m, err := NewModel(DefaultIntents(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		person     bool
	}{
		{name: "try on in person", text: "is there somewhere I can try shoes on in person?", person: false},
		{name: "pay in person", text: "can I pay in person at the shop", person: false},
		{name: "asks for a person", text: "I want to talk to a person", person: true},
		{name: "speak in person", text: "can I speak to someone in person", person: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := m.Understand(tt.text, ExtractContext{})
			if got := a.Intent == "talk_to_human"; got != tt.person {
				t.Errorf("Understand(%q).Intent = %q (score %.2f); want talk_to_human %v", tt.text, a.Intent, a.Score, tt.person)
			}
		})
	}
}
