//go:build !linux

package image

// lowerPriority does nothing where a thread has no priority of its own.
func lowerPriority(nice int) {}
