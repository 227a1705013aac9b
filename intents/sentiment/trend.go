package sentiment

// Alpha is the weight of the newest message in the conversation trend: with 0.3 the last
// three messages carry about two thirds of it, so a customer who calms down is seen as calm
// within a few messages.
const Alpha = 0.3

// Update returns the conversation trend after a message with score, given the previous trend
// and the number n of messages it already covered. The first message sets the trend.
func Update(prev float64, n int, score float64) float64 {
	if n <= 0 {
		return clamp(score)
	}
	return clamp(Alpha*score + (1-Alpha)*prev)
}

// Trend folds a conversation's scores, oldest first, into its trend.
func Trend(scores []float64) float64 {
	t := 0.0
	for i, s := range scores {
		t = Update(t, i, s)
	}
	return t
}

func clamp(x float64) float64 {
	return max(-1, min(1, x))
}
