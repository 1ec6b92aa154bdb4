// Command notify measures issue #14's Web Push fan-out: one conversation of
// 1,000 members, 900 of them offline with a Web Push subscription and 100
// online over graphql-transport-ws, for the BENCHMARKS figure:
//
//	go run ./bench/notify -messages 30 -pairs 2
//
// It builds confab (or takes -bin), starts `confab serve` on 127.0.0.1
// (SQLite, limits off, --push-allow-private) with a loopback push service
// that counts requests and answers 201, and sets the conversation up. Then
// it runs -pairs pairs of phases on the same data directory, alternating
// the notifier on (--web-push=true) and off (false), each phase a fresh
// server sending -messages messages, one every 2 s. The coalescing window
// (notify.DefaultCoalesceWindow, 10 s from when a push is selected, no flag)
// lets only the first message of each window push; the receiver keeps each
// request and, after the phase, decrypts it (all subscriptions share one key
// pair) to read which message it is about from the preview, so each pushing
// message is measured on its own requests: there must be 900 of them. Each
// pair's chat p99 send→deliver to the 100 online members is compared on vs
// off, and the median of the pairs' ratios is the figure: a change of the
// host's load moves both phases of a pair alike. -cpuprofile takes a CPU
// profile of each notifier-on phase through confab's --debug-addr. Every
// loop is bounded and the whole run ends by itself within runTimeout. Any
// failure ends it with a panic: it is a measuring tool, not a client.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

const (
	members        = 1000
	online         = 100 // users 0..99; user 0 sends
	perCall        = 100 // createConversation and addMembers take at most 100
	sendEvery      = 2 * time.Second
	setupParallel  = 8
	password       = "Bench-Passw0rd!"
	runTimeout     = 45 * time.Minute // setup, and up to 10 pairs of phases
	drainAfterLast = 12 * time.Second // how long the last message's deliveries may take
	pushQuiet      = 3 * time.Second  // then the push requests are done once none came for this long
	pushDrainMax   = 2 * time.Minute  // or after this, whatever is still queued
)

// unlimited are cmd/confab/serve.go's unlimitedFlags: every client comes
// from 127.0.0.1.
var unlimited = []string{
	"--signups-per-minute", "-1", "--logins-per-minute", "-1", "--sends-per-second", "-1",
	"--max-conns-per-user", "-1", "--max-conns-per-address", "-1", "--max-requests-per-address", "-1", "--conversations-per-minute", "-1",
}

var (
	base      string
	debugAddr string // confab's --debug-addr, when profiling
	client    = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: setupParallel * 2}}
)

type user struct{ id, token string }

func main() {
	bin := flag.String("bin", "", "confab binary (default: go build ./cmd/confab)")
	msgs := flag.Int("messages", 12, "messages sent in each phase (one every 2 s; the first of each 10 s coalescing window pushes), at most 600")
	pairs := flag.Int("pairs", 2, "notifier on/off phase pairs, alternating on, off, on, off, … on the same data; at most 10")
	port := flag.Int("port", 18210, "port of the confab server on 127.0.0.1")
	cpuprofile := flag.String("cpuprofile", "", "with this path prefix, take a CPU profile of every notifier-on phase (<prefix>-on<N>.pprof; serves pprof on -debug-port)")
	debugPort := flag.Int("debug-port", 18211, "port of confab's --debug-addr when -cpuprofile is set")
	flag.Parse()
	if *msgs < 1 || *msgs > 600 {
		panic("-messages must be between 1 and 600")
	}
	if *pairs < 1 || *pairs > 10 {
		panic("-pairs must be between 1 and 10")
	}
	dir, err := os.MkdirTemp("", "confab-bench-notify-")
	check(err)
	// A failure or the deadline must not leave the server running.
	deadline := time.AfterFunc(runTimeout, func() {
		stopServer()
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "run took longer than", runTimeout)
		os.Exit(1)
	})
	defer func() {
		deadline.Stop()
		stopServer()
		os.RemoveAll(dir)
		if r := recover(); r != nil {
			panic(r)
		}
	}()
	if *bin == "" {
		*bin = filepath.Join(dir, "confab")
		out, err := exec.Command("go", "build", "-o", *bin, "./cmd/confab").CombinedOutput()
		if err != nil {
			panic(fmt.Sprintf("go build: %v\n%s", err, out))
		}
	}
	base = fmt.Sprintf("http://127.0.0.1:%d", *port)
	if *cpuprofile != "" {
		debugAddr = fmt.Sprintf("127.0.0.1:%d", *debugPort)
	}
	fmt.Println(host(dir))

	push, err := startPushReceiver()
	check(err)
	serve(*bin, dir, true)
	users, cid := setup(push)
	stopServer()

	// The phases alternate on the same data, so a change of the host's
	// load moves both sides of a pair alike (the first phase of a pair is
	// the notifier-on one).
	var ons, offs []result
	var ratios []float64
	for i := range *pairs {
		fmt.Println(host(dir))
		serve(*bin, dir, true)
		var profile func()
		if *cpuprofile != "" {
			profile = cpuProfile(fmt.Sprintf("%s-on%d.pprof", *cpuprofile, i+1), time.Duration(*msgs)*sendEvery)
		}
		on := run(users, cid, *msgs, push)
		if profile != nil {
			profile()
		}
		stopServer()
		serve(*bin, dir, false)
		off := run(users, cid, *msgs, nil)
		stopServer()
		ratio := float64(pct(on.deliver, 99)) / float64(pct(off.deliver, 99))
		fmt.Printf("pair %d: chat p99 on %s off %s (p50 %s / %s): %.2f×; %d of %d messages pushed, send → last push p50 %s p99 %s\n",
			i+1, pct(on.deliver, 99), pct(off.deliver, 99), pct(on.deliver, 50), pct(off.deliver, 50), ratio,
			len(on.lastPush), *msgs, pct(on.lastPush, 50), pct(on.lastPush, 99))
		fmt.Printf("  slowest messages on: %s\n  slowest messages off: %s\n", on.slowMessages(3), off.slowMessages(3))
		ons, offs, ratios = append(ons, on), append(offs, off), append(ratios, ratio)
	}
	fmt.Println(host(dir))

	var on, off result
	for i := range ons {
		on.deliver = append(on.deliver, ons[i].deliver...)
		on.lastPush = append(on.lastPush, ons[i].lastPush...)
		on.perMessage = append(on.perMessage, ons[i].perMessage...)
		on.toOnline += ons[i].toOnline
		off.deliver = append(off.deliver, offs[i].deliver...)
	}
	fmt.Printf("push fan-out, %d members (%d offline with a subscription, %d online), %d of %d messages pushed (coalescing):\n",
		members, members-online, online, len(on.lastPush), *msgs**pairs)
	fmt.Printf("  send → last push request: p50 %s p99 %s max %s\n", pct(on.lastPush, 50), pct(on.lastPush, 99), pct(on.lastPush, 100))
	fmt.Printf("  push requests of each message that pushed: %v (want %d each); to online members: %d (want 0)\n",
		on.perMessage, members-online, on.toOnline)
	fmt.Printf("chat shape, send → deliver to %d online members, %d messages in each of %d phases per side:\n", online, *msgs, *pairs)
	fmt.Printf("  notifier on:  %d deliveries, p50 %s p99 %s\n", len(on.deliver), pct(on.deliver, 50), pct(on.deliver, 99))
	fmt.Printf("  notifier off: %d deliveries, p50 %s p99 %s\n", len(off.deliver), pct(off.deliver, 50), pct(off.deliver, 99))
	sorted := slices.Sorted(slices.Values(ratios))
	median := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	verdict := "holds"
	if median > 1.2 {
		verdict = "MISSED"
	}
	fmt.Printf("  p99 on/off of each pair: %s; median %.2f× (target ≤ 1.2×: %s)\n", fmtRatios(ratios), median, verdict)
}

func fmtRatios(r []float64) string {
	s := make([]string, len(r))
	for i, x := range r {
		s[i] = fmt.Sprintf("%.2f×", x)
	}
	return strings.Join(s, " ")
}

// cpuProfile starts a CPU profile of d from the server's pprof listener
// into path; the returned func waits for it (at most d + 30 s).
func cpuProfile(path string, d time.Duration) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &http.Client{Timeout: d + 30*time.Second}
		resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, int(d/time.Second)))
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil {
			err = os.WriteFile(path, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
		}
	}()
	return func() { <-done }
}

// host is the load average and a synced 4 KiB write's time, as
// bench/check.sh prints them.
func host(dir string) string {
	f := filepath.Join(dir, "fsync")
	defer os.Remove(f)
	out, _ := exec.Command("dd", "if=/dev/zero", "of="+f, "bs=4k", "count=500", "oflag=dsync").CombinedOutput()
	fsync := "?"
	for _, line := range strings.Split(string(out), "\n") {
		if fs := strings.Fields(line); strings.Contains(line, "copied") && len(fs) >= 4 {
			if s, err := strconv.ParseFloat(fs[len(fs)-4], 64); err == nil {
				fsync = fmt.Sprintf("%.3f ms", s/500*1000)
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	l := strings.Fields(string(load))
	if len(l) < 3 {
		l = []string{"?", "?", "?"}
	}
	return fmt.Sprintf("host: load average %s; synced 4 KiB write: %s", strings.Join(l[:3], " "), fsync)
}

// server is the running confab process, if any.
var server struct {
	mu  sync.Mutex
	cmd *exec.Cmd
}

// serve starts confab on the data directory and waits for /healthz. It
// refuses a port that already answers: the figures would be another
// server's.
func serve(bin, dir string, webPush bool) {
	if resp, err := client.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		panic(base + " already answers: stop that server or pass another -port")
	}
	args := append([]string{"serve", "--http", strings.TrimPrefix(base, "http://"), "--data", filepath.Join(dir, "db"),
		"--log-level", "warn", "--push-allow-private", "--web-push=" + strconv.FormatBool(webPush)}, unlimited...)
	if debugAddr != "" {
		args = append(args, "--debug-addr", debugAddr)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // also gone if this program is killed
	check(cmd.Start())
	server.mu.Lock()
	server.cmd = cmd
	server.mu.Unlock()
	for i := 0; ; i++ {
		if resp, err := client.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if i == 300 {
			panic("confab did not answer /healthz within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopServer interrupts the running server, if any, and waits for it
// (killing it after 30 s).
func stopServer() {
	server.mu.Lock()
	defer server.mu.Unlock()
	cmd := server.cmd
	if cmd == nil {
		return
	}
	server.cmd = nil
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func post(path, token string, body, out any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := client.Do(req)
	check(err)
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1000))
		panic(fmt.Sprintf("POST %s: %s: %s", path, resp.Status, msg))
	}
	if out != nil {
		check(json.NewDecoder(resp.Body).Decode(out))
	}
}

func gql(token, q string, vars map[string]any) map[string]any {
	var out struct {
		Data   map[string]any
		Errors any
	}
	post("/graphql", token, map[string]any{"query": q, "variables": vars}, &out)
	if out.Errors != nil {
		panic(fmt.Sprint(out.Errors))
	}
	return out.Data
}

// setup signs up the members, makes the conversation and registers a
// push subscription (at the receiver's /<user index>) for each offline
// member.
func setup(push *pushReceiver) ([]user, string) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	users := make([]user, members)
	parallel(members, func(i int) {
		name := fmt.Sprintf("n%s-%d", run, i)
		post("/auth/signup", "", map[string]string{"email": name + "@example.com", "password": password, "username": name}, nil)
		var tok struct{ IDToken string }
		post("/auth/login", "", map[string]string{"email": name + "@example.com", "password": password}, &tok)
		users[i] = user{subject(tok.IDToken), tok.IDToken}
	})
	ids := make([]string, members)
	for i, u := range users {
		ids[i] = u.id
	}
	cid := gql(users[0].token, `mutation($p:[ID!]!){ createConversation(input:{name:"notify bench", participants:$p}){ conversationId } }`,
		map[string]any{"p": ids[1:perCall]})["createConversation"].(map[string]any)["conversationId"].(string)
	for from := perCall; from < members; from += perCall {
		added := gql(users[0].token, `mutation($c:ID!,$u:[ID!]!){ addMembers(conversationId:$c, userIds:$u){ added } }`,
			map[string]any{"c": cid, "u": ids[from : from+perCall]})["addMembers"].(map[string]any)["added"].([]any)
		if len(added) != perCall {
			panic(fmt.Sprintf("addMembers added %d of %d", len(added), perCall))
		}
	}
	p256dh, auth := base64.RawURLEncoding.EncodeToString(push.priv.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(push.auth)
	parallel(members-online, func(i int) {
		gql(users[online+i].token, `mutation($e:String!,$p:String!,$a:String!){ registerPushSubscription(endpoint:$e, p256dh:$p, auth:$a) }`,
			map[string]any{"e": fmt.Sprintf("%s/%d", push.url, online+i), "p": p256dh, "a": auth})
	})
	return users, cid
}

// parallel runs f(0..n-1), setupParallel at a time.
func parallel(n int, f func(i int)) {
	sem := make(chan struct{}, setupParallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}

// subject is a JWT's sub claim, unverified: the bench's own users.
func subject(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		panic("login returned no JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	check(err)
	var c struct{ Sub string }
	check(json.Unmarshal(b, &c))
	return c.Sub
}

// pushReceiver is the loopback push service: it keeps when each request
// came, for which user index, and its encrypted body. Every subscription
// has its key pair, so it can read them all.
type pushReceiver struct {
	url  string
	priv *ecdh.PrivateKey
	auth []byte
	mu   sync.Mutex
	got  []pushHit // guarded by mu
}

type pushHit struct {
	at   time.Time
	user int
	body []byte
}

// maxPushBody bounds what the receiver reads of a request (Web Push
// carries at most 4 KiB).
const maxPushBody = 8 << 10

func startPushReceiver() (*pushReceiver, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	p := &pushReceiver{priv: priv, auth: make([]byte, 16)}
	rand.Read(p.auth)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + l.Addr().String()
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxPushBody))
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		p.mu.Lock()
		p.got = append(p.got, pushHit{time.Now(), n, body})
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	return p, nil
}

// lastAt is when the latest request came (zero if none).
func (p *pushReceiver) lastAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.got) == 0 {
		return time.Time{}
	}
	return p.got[len(p.got)-1].at
}

func (p *pushReceiver) take() []pushHit {
	p.mu.Lock()
	defer p.mu.Unlock()
	got := p.got
	p.got = nil
	return got
}

type result struct {
	deliver, lastPush []time.Duration
	perMessage        []int // push requests of each message that pushed
	toOnline          int
	sends             []time.Time
	slowest           map[int64]time.Duration // by send time (ns): the message's slowest delivery
	fanouts           [][2]time.Time          // with push: each pushing message's send and last push
}

// slowMessages describes the n messages with the slowest deliveries: their
// index, slowest delivery, and whether they were sent while a fan-out was
// under way (a pushing message's own send included).
func (r *result) slowMessages(n int) string {
	idx := make([]int, len(r.sends))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		return r.slowest[r.sends[idx[a]].UnixNano()] > r.slowest[r.sends[idx[b]].UnixNano()]
	})
	var out []string
	for _, i := range idx[:min(n, len(idx))] {
		during := ""
		for _, f := range r.fanouts {
			if !r.sends[i].Before(f[0]) && !r.sends[i].After(f[1]) {
				during = " in a fan-out"
			}
		}
		out = append(out, fmt.Sprintf("#%d %s%s", i+1, r.slowest[r.sends[i].UnixNano()].Round(time.Millisecond), during))
	}
	return strings.Join(out, ", ")
}

// run connects the online members, sends msgs messages one every 2 s and
// collects the deliveries and (with push) the push requests.
func run(users []user, cid string, msgs int, push *pushReceiver) result {
	var mu sync.Mutex
	res := result{slowest: map[int64]time.Duration{}}
	var conns []*websocket.Conn
	var readers sync.WaitGroup
	for i := range online {
		c := subscribe(users[i].token, cid)
		conns = append(conns, c)
		readers.Go(func() {
			for {
				_, frame, err := c.ReadMessage()
				if err != nil {
					return
				}
				at := time.Now()
				if bytes.Contains(frame, []byte(`"type":"ping"`)) {
					c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
					continue
				}
				if sent, ok := sentAt(frame); ok {
					mu.Lock()
					d := at.Sub(time.Unix(0, sent))
					res.deliver = append(res.deliver, d)
					res.slowest[sent] = max(res.slowest[sent], d)
					mu.Unlock()
				}
			}
		})
	}
	if push != nil {
		push.take()
	}
	sends := make([]time.Time, msgs)
	tick := time.NewTicker(sendEvery)
	for i := range msgs {
		<-tick.C // the first tick also lets the subscriptions go live (graphql-transport-ws acknowledges none)
		sends[i] = time.Now()
		gql(users[0].token, `mutation($c:ID!,$t:String!){ sendMessage(input:{conversationId:$c, content:$t}){ messageId } }`,
			map[string]any{"c": cid, "t": fmt.Sprintf("t=%d;", sends[i].UnixNano())})
	}
	tick.Stop()
	res.sends = sends
	end := time.Now().Add(drainAfterLast)
	for time.Now().Before(end) {
		mu.Lock()
		n := len(res.deliver)
		mu.Unlock()
		if n >= msgs*online && push == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for push != nil && time.Since(end) < pushDrainMax && time.Since(push.lastAt()) < pushQuiet {
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	if push != nil {
		res.lastPush, res.perMessage, res.toOnline, res.fanouts = push.attribute(push.take(), sends)
	}
	return res
}

// attribute decrypts each push request and gives it to the message its
// preview names (by send time): for each message that pushed, the time
// from its send to its last request and its count of requests. Requests to
// online members are counted apart.
func (p *pushReceiver) attribute(hits []pushHit, sends []time.Time) (last []time.Duration, per []int, toOnline int, spans [][2]time.Time) {
	latest := map[int64]time.Time{}
	count := map[int64]int{}
	for _, h := range hits {
		if h.user < online {
			toOnline++
			continue
		}
		plain, err := decrypt(p.priv, p.auth, h.body)
		check(err)
		var payload struct{ Preview string }
		check(json.Unmarshal(plain, &payload))
		sent, ok := sentAt([]byte(`"content":"` + payload.Preview))
		if !ok {
			panic("a push without the message's send time in its preview: " + string(plain))
		}
		count[sent]++
		if h.at.After(latest[sent]) {
			latest[sent] = h.at
		}
	}
	for _, t := range sends {
		if n := count[t.UnixNano()]; n > 0 {
			per = append(per, n)
			last = append(last, latest[t.UnixNano()].Sub(t))
			spans = append(spans, [2]time.Time{t, latest[t.UnixNano()]})
		}
	}
	return last, per, toOnline, spans
}

// decrypt opens an aes128gcm body (RFC 8188 §2 with the keys of RFC 8291
// §3.4; the same as notify/webpush's test): header salt(16) rs(4) idlen(1)
// keyid (the sender's ephemeral public key), one record ending in the 0x02
// delimiter and zero padding.
func decrypt(priv *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21 || len(body) < 21+int(body[20]) {
		return nil, errors.New("push body shorter than its aes128gcm header")
	}
	salt, asPublic, record := body[:16], body[21:21+int(body[20])], body[21+int(body[20]):]
	asKey, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, err
	}
	secret, err := priv.ECDH(asKey)
	if err != nil {
		return nil, err
	}
	keyInfo := append(append([]byte("WebPush: info\x00"), priv.PublicKey().Bytes()...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, secret, auth, string(keyInfo), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, err
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("push record without the 0x02 delimiter")
	}
	return plain[:len(plain)-1], nil
}

// subscribe opens a graphql-transport-ws connection subscribed to the
// conversation's onMessageSent.
func subscribe(token, cid string) *websocket.Conn {
	d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, Subprotocols: []string{"graphql-transport-ws"}}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/graphql", nil)
	check(err)
	check(c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": token}}))
	check(c.SetReadDeadline(time.Now().Add(15 * time.Second)))
	var ack struct{ Type string }
	check(c.ReadJSON(&ack))
	if ack.Type != "connection_ack" {
		panic("no connection_ack: " + ack.Type)
	}
	check(c.SetReadDeadline(time.Time{}))
	check(c.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($c:ID!){ onMessageSent(conversationId:$c){ messageId content } }`,
		"variables": map[string]any{"c": cid}}}))
	return c
}

// sentAt reads the send time a message's content carries ("t=<ns>;").
func sentAt(frame []byte) (int64, bool) {
	_, rest, ok := bytes.Cut(frame, []byte(`"content":"t=`))
	if !ok {
		return 0, false
	}
	num, _, ok := bytes.Cut(rest, []byte(";"))
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	return n, err == nil
}

// pct is the p-th percentile of d (0 when empty); it sorts d.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, len(d)*p/100)].Round(time.Millisecond)
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
