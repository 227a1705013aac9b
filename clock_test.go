package baton_test

import (
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestOffsetClockFlowsAndJumps(t *testing.T) {
	t.Parallel()
	c := baton.NewOffsetClock(0)
	before := time.Now()
	c.Advance(72 * time.Hour)
	got := c.Now()
	if d := got.Sub(before); d < 72*time.Hour || d > 72*time.Hour+time.Second {
		t.Errorf("after Advance(72h) the clock is %s ahead; want 72h", d)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Advance(time.Minute); _ = c.Now() }()
	}
	wg.Wait()
	if c.Offset() != 72*time.Hour+8*time.Minute {
		t.Errorf("offset %s; want 72h8m", c.Offset())
	}
	if !c.Now().After(got) {
		t.Error("the clock does not flow")
	}
}
