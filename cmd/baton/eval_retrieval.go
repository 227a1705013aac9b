package main

import (
	"context"
	"io"
)

// evalRetrieval is `baton eval retrieval --faqs FILE --queries FILE [--json]`.
func evalRetrieval(ctx context.Context, args []string, stdout io.Writer) error {
	return usageError{"eval retrieval: not built yet"}
}

// benchRetrieval is `baton bench retrieval --chunks N [--json]`.
func benchRetrieval(ctx context.Context, args []string, stdout io.Writer) error {
	return usageError{"bench retrieval: not built yet"}
}
