//go:build race

package convtest_test

// raceDetector: under -race every script takes several times as long; see sampleUnderRace.
const raceDetector = true
