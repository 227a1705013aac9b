//go:build !race

package convtest_test

const raceDetector = false
