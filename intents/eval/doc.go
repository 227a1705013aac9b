// Package eval measures the understanding pipeline on public datasets: intent accuracy and
// out-of-scope detection (CLINC150, Banking77), sentiment (VADER ground truth, airline tweets)
// and detail extraction (Restaurants-8K, Baton's own fixtures). It backs `baton eval`.
package eval
