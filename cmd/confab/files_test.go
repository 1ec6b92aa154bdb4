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
		return a.url + u
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
