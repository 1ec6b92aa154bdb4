package image

import "syscall"

// lowerPriority sets the nice value of the calling OS thread (on Linux a
// thread has a priority of its own) to nice, so that the kernel runs the
// server's other threads first when the CPUs are short. Raising the nice
// value needs no privilege; a failure leaves the thread as it was.
func lowerPriority(nice int) {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice)
}
