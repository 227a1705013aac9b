package main

import (
	"context"
	"io"
)

// cmdKB is `baton kb import|export|status`.
func cmdKB(ctx context.Context, args []string, stdout io.Writer) error {
	return usageError{"kb: not built yet"}
}
