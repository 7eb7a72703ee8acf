//go:build !race

package leadimport

const raceEnabled = false
