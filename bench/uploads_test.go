package bench

import (
	"bytes"
	"image/png"
	"io"
	"strings"
	"testing"
)

func TestCheckUploads(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"Off", Config{}, ""},
		{"Ten", Config{UploadRate: 10}, ""},
		{"Max", Config{UploadRate: maxUploadRate}, ""},
		{"ErrNegative", Config{UploadRate: -1}, "not between"},
		{"ErrTooHigh", Config{UploadRate: maxUploadRate + 1}, "not between"},
		{"ErrBaseline", Config{UploadRate: 1, Baseline: true}, "baseline"},
		{"ErrDurable", Config{UploadRate: 1, Durable: true}, "baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkUploads(tt.cfg)
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("checkUploads(%+v) = %v, want %q", tt.cfg, err, tt.err)
			}
		})
	}
}

func TestNoisePNG_OneMiBTheSameEveryRun(t *testing.T) {
	a, b := noisePNG(), noisePNG()
	if !bytes.Equal(a, b) {
		t.Fatal("two calls made different images")
	}
	if len(a) < 1<<20 || len(a) > 1<<20+1<<14 {
		t.Fatalf("%d bytes, want about 1 MiB", len(a))
	}
	c, err := png.DecodeConfig(bytes.NewReader(a))
	if err != nil || c.Width != uploadSide || c.Height != uploadSide {
		t.Fatalf("DecodeConfig = %+v, %v; want %d × %d", c, err, uploadSide, uploadSide)
	}
}

func TestUploadChecks_Medians(t *testing.T) {
	// Two rounds: alone 100, 300, 120 (median 120); with 130, 400 (median 265).
	runs := []*Report{{DeliverP99: 100}, {DeliverP99: 130, UploadRate: 10, UploadsPerSec: 10}, {DeliverP99: 300},
		{DeliverP99: 400, UploadRate: 10, UploadsPerSec: 8.5}, {DeliverP99: 120}}
	checks := uploadChecks(runs)
	if checks[0].Figure != 265.0/120 || checks[0].Holds {
		t.Errorf("ratio %v (holds %v), want %v, missed", checks[0].Figure, checks[0].Holds, 265.0/120)
	}
	if checks[1].Figure != 8.5 || checks[1].Holds {
		t.Errorf("uploads/s %v (holds %v), want the slowest run's 8.5, missed", checks[1].Figure, checks[1].Holds)
	}
}

func TestCompareUploads_Rounds(t *testing.T) {
	for _, rounds := range []int{0, MaxUploadRounds + 1} {
		_, err := CompareUploads(t.Context(), Config{Subscribers: 1}, rounds, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "rounds") {
			t.Errorf("%d rounds: %v, want refused", rounds, err)
		}
	}
}

func TestUploadChecks(t *testing.T) {
	alone := &Report{Rate: 200, SendsPerSec: 199, DeliverP99: 100}
	again := &Report{Rate: 200, SendsPerSec: 200, DeliverP99: 120}
	for _, tt := range []struct {
		name  string
		with  Report
		ratio float64
		holds []bool
	}{
		{"Holds", Report{Rate: 200, SendsPerSec: 195, DeliverP99: 130, UploadRate: 10, UploadsPerSec: 9.5}, 130.0 / 110, []bool{true, true, true, true}},
		{"TailMissed", Report{Rate: 200, SendsPerSec: 195, DeliverP99: 140, UploadRate: 10, UploadsPerSec: 9.5}, 140.0 / 110, []bool{false, true, true, true}},
		{"UploadsBehind", Report{Rate: 200, SendsPerSec: 195, DeliverP99: 100, UploadRate: 10, UploadsPerSec: 8}, 100.0 / 110, []bool{true, false, true, true}},
		{"SendsBehind", Report{Rate: 200, SendsPerSec: 90, DeliverP99: 100, UploadRate: 10, UploadsPerSec: 10, Lost: 1}, 100.0 / 110, []bool{true, true, false, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checks := uploadChecks([]*Report{alone, &tt.with, again})
			if len(checks) != len(tt.holds) || checks[0].Figure != tt.ratio {
				t.Fatalf("checks %+v: want %d, the first %.3f", checks, len(tt.holds), tt.ratio)
			}
			for i, c := range checks {
				if c.Holds != tt.holds[i] {
					t.Errorf("%s: holds %v, want %v", c.What, c.Holds, tt.holds[i])
				}
			}
		})
	}
}
