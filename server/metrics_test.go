package server

import (
	"net/http"
	"strings"
	"testing"
)

func getStatus(t *testing.T, url, authorization string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	n, _ := res.Body.Read(buf)
	b.Write(buf[:n])
	return res.StatusCode, b.String()
}

// TestMetrics_Token: with --metrics-token, /metrics answers only a
// request that bears it.
func TestMetrics_Token(t *testing.T) {
	ts := newTestServer(t, Config{MetricsToken: "s3cret"}, nil)
	for _, auth := range []string{"", "Bearer wrong", "s3cret", "Bearer s3cret0"} {
		if status, _ := getStatus(t, ts.URL()+"/metrics", auth); status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, status)
		}
	}
	if status, body := getStatus(t, ts.URL()+"/metrics", "Bearer s3cret"); status != http.StatusOK || !strings.Contains(body, "confab_") && !strings.Contains(body, "go_") {
		t.Errorf("with the token: %d %.100s", status, body)
	}
}

// TestMetrics_SeparateAddress: with --metrics-addr, /metrics is served
// there and not on the main address.
func TestMetrics_SeparateAddress(t *testing.T) {
	ts := newTestServer(t, Config{MetricsAddr: "127.0.0.1:0"}, nil)
	if status, _ := getStatus(t, ts.URL()+"/metrics", ""); status == http.StatusOK {
		t.Errorf("main address still serves /metrics")
	}
	if ts.MetricsURL() == "" {
		t.Fatal("no metrics listener")
	}
	if status, body := getStatus(t, ts.MetricsURL()+"/metrics", ""); status != http.StatusOK || !strings.Contains(body, "# HELP") {
		t.Errorf("metrics address: %d %.100s", status, body)
	}
	if status, _ := getStatus(t, ts.MetricsURL()+"/graphql", ""); status != http.StatusNotFound {
		t.Errorf("metrics address serves /graphql: %d", status)
	}
}
