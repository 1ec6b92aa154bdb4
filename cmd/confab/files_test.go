package main

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg" // thumbnails of opaque images
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

const (
	createUpload = `mutation($c:ID!,$n:String!,$t:String!,$s:Int!){ createUpload(conversationId:$c, fileName:$n, contentType:$t, size:$s){ uploadId url method headers { name value } expiresAt } }`
	sendFiles    = `mutation($c:ID!,$a:[ID!]){ sendMessage(input:{conversationId:$c, content:"", attachments:$a}){ messageId messageType attachments { attachmentId fileName size width height url thumbnailUrl } } }`
	listFiles    = `query($c:ID!){ listMessages(conversationId:$c){ items { messageType attachments { fileName contentType size width height url thumbnailUrl previewUrl expiresAt } } } }`
)

// absolute resolves a link the server minted (relative to it for the
// disk engine, absolute for S3).
func (a *app) absolute(u string) string {
	if strings.HasPrefix(u, "/") {
		origin, _, _ := strings.Cut(strings.TrimPrefix(a.url, "http://"), "/") // a workspace's app has a path
		return "http://" + origin + u
	}
	return u
}

// uploadFile creates an upload over GraphQL and sends body to its
// target, as a client does; it returns the upload id.
func (a *app) uploadFile(t *testing.T, token, conv, name, ctype string, body []byte) string {
	t.Helper()
	up := a.mustGQL(t, token, createUpload, map[string]any{"c": conv, "n": name, "t": ctype, "s": len(body)})["createUpload"].(map[string]any)
	req, err := http.NewRequest(up["method"].(string), a.absolute(up["url"].(string)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range up["headers"].([]any) {
		h := h.(map[string]any)
		req.Header.Set(h["name"].(string), h["value"].(string))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT %s: status %d", name, resp.StatusCode)
	}
	return up["uploadId"].(string)
}

func (a *app) download(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(a.absolute(u))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 99, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestMain_Files: through the real server on the disk engine, Alice sends
// an image and a PDF; Bob reads them with links of his own and downloads
// the PDF byte-identical and the image's thumbnail; a stranger gets
// nothing; a forged link is refused.
func TestMain_Files(t *testing.T) { testFiles(t) }

// TestMain_FilesDynamoDB is the same on --store dynamodb (its UploadStore).
func TestMain_FilesDynamoDB(t *testing.T) { testFiles(t, dynamoStoreArgs(t)...) }

// testFiles sends an image and a PDF on the disk engine and the store
// extra names, and checks what a member, a stranger and a forger get.
func testFiles(t *testing.T, extra ...string) {
	a := runMain(t, extra...)
	alice, bob, carol := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "carol")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	pdf := []byte("%PDF-1.4\n% a report\n%%EOF\n")
	img := a.uploadFile(t, alice.idToken, cid, "photo.png", "image/png", testPNG(t, 700, 300))
	doc := a.uploadFile(t, alice.idToken, cid, "report.pdf", "application/pdf", pdf)
	sent := a.mustGQL(t, alice.idToken, sendFiles, map[string]any{"c": cid, "a": []string{img, doc}})["sendMessage"].(map[string]any)
	if sent["messageType"] != "FILE" || len(sent["attachments"].([]any)) != 2 {
		t.Fatalf("sent %v, want a FILE message with two attachments", sent)
	}

	items := a.mustGQL(t, bob.idToken, listFiles, map[string]any{"c": cid})["listMessages"].(map[string]any)["items"].([]any)
	atts := items[0].(map[string]any)["attachments"].([]any)
	byName := map[string]map[string]any{}
	for _, x := range atts {
		byName[x.(map[string]any)["fileName"].(string)] = x.(map[string]any)
	}
	if status, body := a.download(t, byName["report.pdf"]["url"].(string)); status != 200 || !bytes.Equal(body, pdf) {
		t.Fatalf("PDF: %d, %d bytes; want the %d sent", status, len(body), len(pdf))
	}
	photo := byName["photo.png"]
	if photo["width"].(float64) != 700 || photo["height"].(float64) != 300 {
		t.Fatalf("photo %v, want 700 × 300", photo)
	}
	status, body := a.download(t, photo["thumbnailUrl"].(string))
	thumb, _, err := image.Decode(bytes.NewReader(body)) // a JPEG: the photo is opaque
	if status != 200 || err != nil || thumb.Bounds().Dx() != 320 {
		t.Fatalf("thumbnail: %d, %v, decode %v", status, thumb, err)
	}

	forged := strings.Replace(photo["url"].(string), "sig=", "sig=x", 1)
	if status, _ := a.download(t, forged); status != http.StatusForbidden {
		t.Fatalf("forged link: %d, want 403", status)
	}
	status, out := a.gql(t, carol.idToken, listFiles, map[string]any{"c": cid})
	if status != 200 || errCode(out) != "NOT_FOUND" {
		t.Fatalf("a stranger lists the files: %d %v", status, out)
	}
	status, out = a.gql(t, carol.idToken, createUpload, map[string]any{"c": cid, "n": "a.txt", "t": "text/plain", "s": 3})
	if errCode(out) != "NOT_FOUND" {
		t.Fatalf("a stranger creates an upload: %d %v", status, out)
	}
	status, out = a.gql(t, alice.idToken, sendFiles, map[string]any{"c": cid, "a": []string{img}})
	if errCode(out) != "CONFLICT" {
		t.Fatalf("an upload attached twice: %d %v", status, out)
	}
}

// TestMain_FilesInThread: over each real-time protocol, Alice replies in
// a thread with an image, also to the conversation; Bob, following the
// conversation's changes, gets the reply with its file and links of his
// own, then the root's new reply count; listThread shows the same, and
// the original downloads byte-identical.
func TestMain_FilesInThread(t *testing.T) {
	a := runMain(t)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	const (
		fileFields  = `attachments { fileName size width height url thumbnailUrl }`
		sendRoot    = `mutation($c:ID!,$t:String!){ sendMessage(input:{conversationId:$c, content:$t}){ messageId changeSeq } }`
		sendReply   = `mutation($c:ID!,$p:ID!,$a:[ID!]){ sendMessage(input:{conversationId:$c, content:"", parentMessageId:$p, alsoInConversation:true, attachments:$a}){ messageId messageType } }`
		listReplies = `query($c:ID!,$p:ID!){ listThread(conversationId:$c, parentMessageId:$p){ items { messageId parentMessageId ` + fileFields + ` } } }`
		onFiles     = `subscription($c:ID!,$a:Int){ onConversationChanged(conversationId:$c, afterChange:$a){ kind message { messageId parentMessageId replyCount ` + fileFields + ` } } }`
	)
	photo := testPNG(t, 500, 200)

	// subscribe starts Bob's changes after afterChange over one protocol
	// and returns a function that reads the next change.
	subscribe := map[string]func(t *testing.T, after float64) func() map[string]any{
		"graphql-transport-ws": func(t *testing.T, after float64) func() map[string]any {
			ws := a.dialGQLWS(t, bob.idToken)
			ws.send(map[string]any{"id": "files", "type": "subscribe", "payload": map[string]any{
				"query": onFiles, "variables": map[string]any{"c": cid, "a": after}}})
			return func() map[string]any {
				m := ws.read()
				if m["type"] != "next" {
					t.Fatalf("frame %v, want next", m)
				}
				return m["payload"].(map[string]any)["data"].(map[string]any)["onConversationChanged"].(map[string]any)
			}
		},
		"AppSync": func(t *testing.T, after float64) func() map[string]any {
			c := a.dialAppSync(t, bob.idToken, true)
			if m := c.read(false); m["type"] != "connection_ack" {
				t.Fatalf("after init: %v", m)
			}
			c.start("files", bob.idToken, onFiles, map[string]any{"c": cid, "a": after})
			if m := c.read(false); m["type"] != "start_ack" {
				t.Fatalf("after start: %v", m)
			}
			return func() map[string]any {
				m := c.read(false)
				if m["type"] != "data" {
					t.Fatalf("frame %v, want data", m)
				}
				return m["payload"].(map[string]any)["data"].(map[string]any)["onConversationChanged"].(map[string]any)
			}
		},
	}
	for name, sub := range subscribe {
		t.Run(name, func(t *testing.T) {
			root := a.mustGQL(t, alice.idToken, sendRoot, map[string]any{"c": cid, "t": "root via " + name})["sendMessage"].(map[string]any)
			next := sub(t, root["changeSeq"].(float64))
			up := a.uploadFile(t, alice.idToken, cid, "photo.png", "image/png", photo)
			reply := a.mustGQL(t, alice.idToken, sendReply, map[string]any{"c": cid, "p": root["messageId"], "a": []string{up}})["sendMessage"].(map[string]any)
			if reply["messageType"] != "IMAGE" {
				t.Fatalf("reply %v, want an IMAGE message", reply)
			}

			sent := next()
			m := sent["message"].(map[string]any)
			if sent["kind"] != "MESSAGE_SENT" || m["messageId"] != reply["messageId"] || m["parentMessageId"] != root["messageId"] {
				t.Fatalf("first change %v, want the reply's MESSAGE_SENT", sent)
			}
			wantPhoto(t, a, "live", m["attachments"].([]any), photo)
			if upd := next(); upd["kind"] != "THREAD_UPDATED" || upd["message"].(map[string]any)["replyCount"] != float64(1) {
				t.Fatalf("second change %v, want the root's THREAD_UPDATED with one reply", upd)
			}

			items := a.mustGQL(t, bob.idToken, listReplies, map[string]any{"c": cid, "p": root["messageId"]})["listThread"].(map[string]any)["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("listThread %v, want the reply", items)
			}
			wantPhoto(t, a, "listThread", items[0].(map[string]any)["attachments"].([]any), photo)
		})
	}
}

// wantPhoto checks that atts is the one image sent, with a thumbnail,
// and that its link downloads the original byte-identical.
func wantPhoto(t *testing.T, a *app, where string, atts []any, photo []byte) {
	t.Helper()
	if len(atts) != 1 {
		t.Fatalf("%s: attachments %v, want the photo", where, atts)
	}
	att := atts[0].(map[string]any)
	if att["fileName"] != "photo.png" || att["width"] != float64(500) || att["thumbnailUrl"] == nil {
		t.Fatalf("%s: attachment %v, want photo.png, 500 wide, with a thumbnail", where, att)
	}
	if status, body := a.download(t, att["url"].(string)); status != 200 || !bytes.Equal(body, photo) {
		t.Fatalf("%s: download %d, %d bytes; want the %d sent", where, status, len(body), len(photo))
	}
	if status, _ := a.download(t, att["thumbnailUrl"].(string)); status != 200 {
		t.Fatalf("%s: thumbnail %d", where, status)
	}
}
