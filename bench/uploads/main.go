// Command uploads drives 10 uploads a second (a 1 MiB noise PNG each:
// createUpload, the PUT to the disk engine's link, completeUpload) against
// a confab server for a while, and prints how long each took, for the
// BENCHMARKS figure of chat latency while files are processed:
//
//	go run ./bench/uploads http://127.0.0.1:18190 14s
//
// It signs up a user of its own; the server needs --signups-per-minute -1
// and --upload-quota-bytes -1. Any failure ends it with a panic: it is a
// measuring tool, not a client.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

var base = os.Args[1]

func post(path, token string, body any) map[string]any {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func gql(token, q string, vars map[string]any) map[string]any {
	out := post("/graphql", token, map[string]any{"query": q, "variables": vars})
	if out["errors"] != nil {
		panic(fmt.Sprint(out["errors"]))
	}
	return out["data"].(map[string]any)
}

func main() {
	dur, _ := time.ParseDuration(os.Args[2])
	img := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	rand.Read(img.Pix)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	data := buf.Bytes()
	email := fmt.Sprintf("up%d@example.com", time.Now().UnixNano())
	post("/auth/signup", "", map[string]string{"email": email, "password": "Passw0rd!x"})
	tok := post("/auth/login", "", map[string]string{"email": email, "password": "Passw0rd!x"})["idToken"].(string)
	cid := gql(tok, `mutation{ createConversation(input:{participants:[]}){ conversationId } }`, nil)["createConversation"].(map[string]any)["conversationId"].(string)
	var mu sync.Mutex
	var took []time.Duration
	var wg sync.WaitGroup
	tick := time.NewTicker(100 * time.Millisecond)
	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			up := gql(tok, `mutation($c:ID!,$s:Int!){ createUpload(conversationId:$c, fileName:"n.png", contentType:"image/png", size:$s){ uploadId url method headers { name value } } }`,
				map[string]any{"c": cid, "s": len(data)})["createUpload"].(map[string]any)
			req, _ := http.NewRequest("PUT", base+up["url"].(string), bytes.NewReader(data))
			req.Header.Set("Content-Type", "image/png")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				panic(fmt.Sprint(err, resp))
			}
			resp.Body.Close()
			gql(tok, `mutation($u:ID!){ completeUpload(uploadId:$u){ width } }`, map[string]any{"u": up["uploadId"]})
			mu.Lock()
			took = append(took, time.Since(start))
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	fmt.Printf("uploads %d in %s (%.1f/s started); p50 %s p99 %s\n", len(took), dur, float64(len(took))/dur.Seconds(), took[len(took)/2], took[len(took)*99/100])
}
