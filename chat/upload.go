package chat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/image"
)

// Defaults of UploadConfig, used where a field is zero.
const (
	DefaultMaxUploadBytes   = 25 << 20 // largest file, in bytes
	DefaultUploadQuotaBytes = 1 << 30  // bytes one user may upload per UTC day
	DefaultUploadPutTTL     = 5 * time.Minute
	DefaultUploadGetTTL     = 120 * time.Second // as Tinode's download links
	DefaultUploadAttachTTL  = time.Hour
	// MaxAttachments bounds the attachments of one message.
	MaxAttachments = 10
	// MaxFileNameBytes bounds an upload's file name, in bytes.
	MaxFileNameBytes = 255
	// uploadSweepBatch is how many dead uploads one sweep step removes.
	uploadSweepBatch = 100
)

// UploadConfig holds the limits on files. Zero values mean the defaults.
type UploadConfig struct {
	// MaxBytes is the largest file accepted (bytes); larger is
	// BAD_USER_INPUT at createUpload. Default DefaultMaxUploadBytes.
	MaxBytes int64
	// AllowedTypes lists the content types a client may declare; each must
	// be one blob/image knows how to check. Default
	// image.DefaultAllowedTypes().
	AllowedTypes []string
	// QuotaBytesPerDay bounds the bytes a user may declare in createUpload
	// per UTC day; over it is RATE_LIMITED until midnight UTC. Default
	// DefaultUploadQuotaBytes; negative means unlimited.
	QuotaBytesPerDay int64
	// PutTTL is how long an upload's presigned target accepts the bytes.
	// Default DefaultUploadPutTTL.
	PutTTL time.Duration
	// GetTTL is how long a download link minted for a reader works.
	// Default DefaultUploadGetTTL.
	GetTTL time.Duration
	// AttachTTL is how long an upload may wait to be attached to a
	// message; after it, SweepUploads removes it. Default
	// DefaultUploadAttachTTL.
	AttachTTL time.Duration
}

// files is the service's file support: set by WithUploads.
type files struct {
	blobs   confab.BlobStore
	store   confab.UploadStore
	img     *image.Processor
	cfg     UploadConfig
	allowed map[string]bool
}

// WithUploads enables files: bytes in blobs, records in store, images
// checked and thumbnailed by img. Without it createUpload and
// attachments are refused.
func WithUploads(blobs confab.BlobStore, store confab.UploadStore, img *image.Processor, cfg UploadConfig) Option {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxUploadBytes
	}
	if len(cfg.AllowedTypes) == 0 {
		cfg.AllowedTypes = image.DefaultAllowedTypes()
	}
	if cfg.QuotaBytesPerDay == 0 {
		cfg.QuotaBytesPerDay = DefaultUploadQuotaBytes
	}
	if cfg.PutTTL <= 0 {
		cfg.PutTTL = DefaultUploadPutTTL
	}
	if cfg.GetTTL <= 0 {
		cfg.GetTTL = DefaultUploadGetTTL
	}
	if cfg.AttachTTL <= 0 {
		cfg.AttachTTL = DefaultUploadAttachTTL
	}
	f := &files{blobs: blobs, store: store, img: img, cfg: cfg, allowed: map[string]bool{}}
	for _, t := range cfg.AllowedTypes {
		f.allowed[t] = true
	}
	return func(s *Service) { s.files = f }
}

// Blob keys of an upload: where the client puts the bytes, and where
// they go once checked (the client's URL can no longer change them).
func inKey(id string) string   { return "uploads/" + id + "/in" }
func fileKey(id string) string { return "uploads/" + id + "/file" }
func thumbKey(id string, i int) string {
	return fmt.Sprintf("uploads/%s/thumb-%d", id, image.ThumbSizes[i])
}

// UploadTarget is what createUpload returns: where to send the bytes.
type UploadTarget struct {
	UploadID string
	*confab.PresignedRequest
}

// CreateUpload records a file the caller is about to send to a
// conversation of theirs and returns a presigned target for its bytes.
// The declared type must be allowed and fit the file name's extension,
// the size within MaxBytes and the caller's daily quota.
func (s *Service) CreateUpload(ctx context.Context, caller confab.Identity, conversationID, fileName, contentType string, size int64) (*UploadTarget, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	f := s.files
	if f == nil {
		return nil, confab.Errorf(confab.CodeInvalid, "This server does not accept files.")
	}
	ct, err := f.checkDeclared(fileName, contentType, size)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	if err := f.checkQuota(ctx, caller.UserID, size, now); err != nil {
		return nil, err
	}
	u := &confab.Upload{UploadID: s.newID(), UserID: caller.UserID, ConversationID: conversationID, FileName: fileName,
		ContentType: ct, Size: size, CreatedAt: now, ExpiresAt: now.Add(f.cfg.AttachTTL)}
	if err := f.store.InsertUpload(ctx, u); err != nil {
		return nil, err
	}
	req, err := f.blobs.PresignPut(ctx, inKey(u.UploadID), confab.PutParams{ContentType: ct, Size: size, Expires: now.Add(f.cfg.PutTTL)})
	if err != nil {
		return nil, err
	}
	return &UploadTarget{UploadID: u.UploadID, PresignedRequest: req}, nil
}

// checkDeclared validates what a client says of a file, and returns the
// content type without parameters, lower-cased.
func (f *files) checkDeclared(fileName, contentType string, size int64) (string, error) {
	if fileName == "" {
		return "", confab.Errorf(confab.CodeInvalid, "fileName must not be empty.")
	}
	if err := confab.CheckText("fileName", fileName, MaxFileNameBytes); err != nil {
		return "", err
	}
	ct, _, err := mime.ParseMediaType(contentType)
	if err != nil || !f.allowed[ct] {
		return "", confab.Errorf(confab.CodeInvalid, "Files of type %q are not accepted.", contentType)
	}
	if !image.ExtensionMatches(fileName, ct) {
		return "", confab.Errorf(confab.CodeInvalid, "The file name's extension does not match its type %s.", ct)
	}
	if size <= 0 || size > f.cfg.MaxBytes {
		return "", confab.Errorf(confab.CodeInvalid, "size must be between 1 and %d bytes.", f.cfg.MaxBytes)
	}
	return ct, nil
}

// checkQuota refuses an upload that would take the user's bytes of the
// UTC day over the quota.
func (f *files) checkQuota(ctx context.Context, userID string, size int64, now time.Time) error {
	if f.cfg.QuotaBytesPerDay < 0 {
		return nil
	}
	day := now.Truncate(24 * time.Hour)
	used, err := f.store.SumUploadBytes(ctx, userID, day)
	if err != nil {
		return err
	}
	if used+size > f.cfg.QuotaBytesPerDay {
		return confab.Limited(day.Add(24*time.Hour).Sub(now), "Daily upload quota of %d MiB reached.", f.cfg.QuotaBytesPerDay>>20)
	}
	return nil
}

// CompleteUpload checks the caller's uploaded file (see finish) and
// returns it as the attachment it will be. Clients call it once the
// bytes are sent, so that sendMessage has nothing left to check; an
// upload that is already complete is returned as it is.
func (s *Service) CompleteUpload(ctx context.Context, caller confab.Identity, uploadID string) (*confab.Attachment, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	u, err := s.ownUpload(ctx, caller, uploadID)
	if err != nil {
		return nil, err
	}
	if err := s.requireMember(ctx, caller, u.ConversationID); err != nil {
		return nil, err
	}
	if u, err = s.files.finish(ctx, u); err != nil {
		return nil, err
	}
	return s.files.attachment(ctx, u, s.nowUTC())
}

// ownUpload returns the caller's upload, or NOT_FOUND (another user's
// upload is not revealed).
func (s *Service) ownUpload(ctx context.Context, caller confab.Identity, uploadID string) (*confab.Upload, error) {
	if s.files == nil {
		return nil, confab.Errorf(confab.CodeInvalid, "This server does not accept files.")
	}
	if !confab.ValidID(uploadID) {
		return nil, errUploadNotFound()
	}
	u, err := s.files.store.GetUpload(ctx, uploadID)
	if confab.ErrorCode(err) == confab.CodeNotFound || (err == nil && u.UserID != caller.UserID) {
		return nil, errUploadNotFound()
	}
	return u, err
}

func errUploadNotFound() error { return confab.Errorf(confab.CodeNotFound, "Upload not found.") }

// finish checks an upload's bytes and moves them to their final key:
// the stored size must be the declared one and the sniffed type the
// declared type; an image must decode within bounded dimensions, and is
// stored re-encoded without metadata, with its thumbnails. A failed check
// is BAD_USER_INPUT and removes the bytes (the upload stays, to expire).
// The bytes checked are the bytes stored: they are read once.
func (f *files) finish(ctx context.Context, u *confab.Upload) (*confab.Upload, error) {
	if u.Ready {
		return u, nil
	}
	size, err := f.blobs.Stat(ctx, inKey(u.UploadID))
	if confab.ErrorCode(err) == confab.CodeNotFound {
		// Not uploaded, or finished meanwhile by a concurrent call.
		if again, gerr := f.store.GetUpload(ctx, u.UploadID); gerr == nil && again.Ready {
			return again, nil
		}
		return nil, confab.Errorf(confab.CodeInvalid, "The file %q has not been uploaded.", u.FileName)
	}
	if err != nil {
		return nil, err
	}
	if size != u.Size {
		return nil, f.reject(ctx, u, "The file %q is not the size it was declared with.")
	}
	rc, err := f.blobs.Open(ctx, inKey(u.UploadID))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	head := make([]byte, image.SniffBytes)
	n, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("chat: read upload: %w", err)
	}
	head = head[:n]
	if !image.Matches(u.ContentType, head) {
		return nil, f.reject(ctx, u, "The content of %q is not of its declared type.")
	}
	done := *u
	body := io.MultiReader(bytes.NewReader(head), rc)
	if image.IsImage(u.ContentType) {
		if err := f.finishImage(ctx, &done, body); err != nil {
			return nil, err
		}
	} else if err := f.blobs.Put(ctx, fileKey(u.UploadID), body, size, u.ContentType); err != nil {
		return nil, err
	}
	done.Ready = true
	if err := f.store.MarkUploadReady(ctx, &done); err != nil {
		return nil, err
	}
	// The client's copy is no longer needed; a failure leaves it to the
	// sweeper, which removes every key of the upload.
	_ = f.blobs.Delete(ctx, inKey(u.UploadID))
	return &done, nil
}

// finishImage decodes the image read from body, stores the cleaned image
// and its thumbnails, and records its size and dimensions in u.
func (f *files) finishImage(ctx context.Context, u *confab.Upload, body io.Reader) error {
	release, err := f.img.Admit()
	if err != nil {
		// The bytes stay: the same call succeeds once the queue drains.
		return &confab.Error{Code: confab.CodeUnavailable, Message: "Too many images are being processed; try again shortly.",
			Op: "chat.finishImage", Err: err, RetryAfter: time.Second}
	}
	defer release()
	data := make([]byte, u.Size) // its size is checked: read in one buffer, not a growing one
	if _, err := io.ReadFull(body, data); err != nil {
		return fmt.Errorf("chat: read upload: %w", err)
	}
	res, err := f.img.Process(ctx, data)
	switch {
	case errors.Is(err, image.ErrTooLarge):
		return f.reject(ctx, u, "The image %q has too many pixels.")
	case errors.Is(err, image.ErrNotImage):
		return f.reject(ctx, u, "The image %q cannot be read.")
	case err != nil:
		return err
	}
	if res.Clean != nil {
		data = res.Clean
	}
	if err := f.blobs.Put(ctx, fileKey(u.UploadID), bytes.NewReader(data), int64(len(data)), u.ContentType); err != nil {
		return err
	}
	thumbType := u.ContentType // when the image is its own thumbnail at every size
	for i, t := range res.Thumbs {
		if t.Original {
			continue // served from fileKey (attachment)
		}
		thumbType = t.ContentType
		if err := f.blobs.Put(ctx, thumbKey(u.UploadID, i), bytes.NewReader(t.Data), int64(len(t.Data)), t.ContentType); err != nil {
			return err
		}
	}
	u.Size, u.Width, u.Height, u.ThumbType = int64(len(data)), res.Width, res.Height, thumbType
	return nil
}

// reject removes an upload's bytes and returns the BAD_USER_INPUT error
// whose message is format with the file name.
func (f *files) reject(ctx context.Context, u *confab.Upload, format string) error {
	// A failed delete leaves the bytes to the sweeper.
	_ = f.blobs.Delete(ctx, inKey(u.UploadID))
	return confab.Errorf(confab.CodeInvalid, format, u.FileName)
}

// attach checks the uploads a message names and attaches them to m
// (whose MessageID is set): each must be the caller's, of m's
// conversation, and not attached before; each is finished if it was not.
// With no content, m's type becomes IMAGE when every file is an image,
// FILE otherwise. The caller detaches them if m is then not stored.
func (s *Service) attach(ctx context.Context, caller confab.Identity, m *confab.Message, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if s.files == nil {
		return confab.Errorf(confab.CodeInvalid, "This server does not accept files.")
	}
	if len(ids) > MaxAttachments {
		return confab.Errorf(confab.CodeInvalid, "A message may have at most %d attachments.", MaxAttachments)
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(ids) {
		return confab.Errorf(confab.CodeInvalid, "attachments names an upload twice.")
	}
	images := true
	for _, id := range ids {
		u, err := s.ownUpload(ctx, caller, id)
		if err != nil {
			return err
		}
		if u.ConversationID != m.ConversationID {
			return errUploadNotFound()
		}
		if u.MessageID != "" {
			return confab.Errorf(confab.CodeConflict, "The upload %q is already attached to a message.", u.FileName)
		}
		if u, err = s.files.finish(ctx, u); err != nil {
			return err
		}
		images = images && image.IsImage(u.ContentType)
	}
	err := s.files.store.AttachUploads(ctx, ids, caller.UserID, m.ConversationID, m.MessageID, s.nowUTC())
	if confab.ErrorCode(err) == confab.CodeConflict {
		return confab.Errorf(confab.CodeConflict, "An upload is already attached to a message, or has expired.")
	}
	if err != nil {
		return err
	}
	if m.Content == "" {
		m.MessageType = confab.MessageFile
		if images {
			m.MessageType = confab.MessageImage
		}
	}
	return nil
}

// retriedSend returns the message a retried send already stored: when its
// first upload is attached to a message of the caller with the same
// ClientToken (the first try stored it and its answer was lost). Nil when
// it is not a retry; attach then reports what is wrong with the uploads.
func (s *Service) retriedSend(ctx context.Context, caller confab.Identity, in SendMessageInput) (*confab.Message, error) {
	if in.ClientToken == "" || len(in.Attachments) == 0 || s.files == nil {
		return nil, nil
	}
	u, err := s.ownUpload(ctx, caller, in.Attachments[0])
	if err != nil || u.MessageID == "" || u.ConversationID != in.ConversationID {
		return nil, nil
	}
	m, err := s.store.GetMessage(ctx, in.ConversationID, u.MessageID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.UserID != caller.UserID || m.ClientToken != in.ClientToken {
		return nil, nil
	}
	return m, nil
}

// sameSend answers a send whose ClientToken was already used, with the
// stored message prev: prev itself when the send asks for the same
// message (content, thread, type, files), CONFLICT otherwise. A send with
// files and no content left the type to the server, which chose IMAGE or
// FILE.
func (s *Service) sameSend(ctx context.Context, prev *confab.Message, in SendMessageInput, rootID string) (*confab.Message, error) {
	conflict := confab.Errorf(confab.CodeConflict, "clientToken was already used for another message.")
	serverTyped := len(in.Attachments) > 0 && in.Content == ""
	if prev.Content != in.Content || prev.ParentMessageID != rootID || (prev.MessageType != in.MessageType && !serverTyped) {
		return nil, conflict
	}
	var had []string
	if s.files != nil {
		byMsg, err := s.files.store.ListMessageUploads(ctx, prev.ConversationID, []string{prev.MessageID})
		if err != nil {
			return nil, err
		}
		for _, u := range byMsg[prev.MessageID] {
			had = append(had, u.UploadID)
		}
	}
	want := slices.Clone(in.Attachments)
	slices.Sort(had)
	slices.Sort(want)
	if !slices.Equal(had, want) {
		return nil, conflict
	}
	return prev, nil
}

// MessageAttachments returns the files of m, with download links minted
// for the caller that work for GetTTL. Only a member of m's conversation
// gets them; a deleted message has none.
func (s *Service) MessageAttachments(ctx context.Context, caller confab.Identity, m *confab.Message) ([]*confab.Attachment, error) {
	byMsg, err := s.PageAttachments(ctx, caller, []*confab.Message{m})
	if err != nil {
		return nil, err
	}
	if a := byMsg[m.MessageID]; a != nil {
		return a, nil
	}
	return []*confab.Attachment{}, nil
}

// PageAttachments is MessageAttachments for a page of messages of one
// conversation, with one store read for the page: the files of each
// message that has any, by message id.
func (s *Service) PageAttachments(ctx context.Context, caller confab.Identity, msgs []*confab.Message) (map[string][]*confab.Attachment, error) {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if !m.Deleted {
			ids = append(ids, m.MessageID)
		}
	}
	if s.files == nil || len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > confab.MaxPageLimit {
		return nil, confab.Errorf(confab.CodeInvalid, "At most %d messages a page.", confab.MaxPageLimit)
	}
	conversationID := msgs[0].ConversationID
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	byMsg, err := s.files.store.ListMessageUploads(ctx, conversationID, ids)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	out := make(map[string][]*confab.Attachment, len(byMsg))
	for id, ups := range byMsg {
		for _, u := range ups {
			a, err := s.files.attachment(ctx, u, now)
			if err != nil {
				return nil, err
			}
			out[id] = append(out[id], a)
		}
	}
	return out, nil
}

// attachment mints the links of a finished upload.
func (f *files) attachment(ctx context.Context, u *confab.Upload, now time.Time) (*confab.Attachment, error) {
	exp := now.Add(f.cfg.GetTTL)
	get, err := f.blobs.PresignGet(ctx, fileKey(u.UploadID), confab.GetParams{ContentType: u.ContentType, FileName: u.FileName, Expires: exp})
	if err != nil {
		return nil, err
	}
	a := &confab.Attachment{AttachmentID: u.UploadID, FileName: u.FileName, ContentType: u.ContentType, Size: u.Size,
		URL: get.URL, ExpiresAt: get.Expires}
	if u.Width > 0 {
		a.Width, a.Height = &u.Width, &u.Height
	}
	if u.ThumbType != "" {
		var urls [len(image.ThumbSizes)]*string
		for i := range image.ThumbSizes {
			key, ctype := thumbKey(u.UploadID, i), u.ThumbType
			if image.FitsThumb(u.Width, u.Height, i) { // the image is its own thumbnail
				key, ctype = fileKey(u.UploadID), u.ContentType
			}
			t, err := f.blobs.PresignGet(ctx, key, confab.GetParams{ContentType: ctype, FileName: "thumbnail-" + u.FileName, Expires: exp})
			if err != nil {
				return nil, err
			}
			urls[i] = &t.URL
		}
		a.ThumbnailURL, a.PreviewURL = urls[0], urls[1]
	}
	return a, nil
}

// SweepUploads removes dead uploads (see confab.UploadStore.ListDeadUploads:
// never attached and expired, or of a deleted or purged message): their
// bytes, then their records. It returns how many it removed.
func (s *Service) SweepUploads(ctx context.Context) (int, error) {
	if s.files == nil {
		return 0, nil
	}
	total := 0
	for {
		dead, err := s.files.store.ListDeadUploads(ctx, s.nowUTC(), uploadSweepBatch)
		if err != nil {
			return total, err
		}
		for _, u := range dead {
			if err := s.files.deleteBlobs(ctx, u.UploadID); err != nil {
				return total, err
			}
			if err := s.files.store.DeleteUpload(ctx, u.UploadID); err != nil {
				return total, err
			}
			total++
		}
		if len(dead) < uploadSweepBatch {
			return total, nil
		}
	}
}

// deleteBlobs removes every blob an upload may have: where the client put
// the bytes, the checked file and the thumbnails. A missing blob is no
// error, so a failed call can be repeated.
func (f *files) deleteBlobs(ctx context.Context, uploadID string) error {
	keys := []string{inKey(uploadID), fileKey(uploadID)}
	for i := range image.ThumbSizes {
		keys = append(keys, thumbKey(uploadID, i))
	}
	for _, k := range keys {
		if err := f.blobs.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// RunUploadSweeper calls SweepUploads every interval until ctx is done;
// failures are logged and retried at the next interval. It blocks: run
// it on a goroutine whose owner cancels ctx and waits for it to return.
func (s *Service) RunUploadSweeper(ctx context.Context, interval time.Duration) {
	for {
		if n, err := s.SweepUploads(ctx); err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "uploads: sweep failed", "removed", n, "err", err)
		} else if n > 0 {
			s.logger.InfoContext(ctx, "uploads: removed dead uploads", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
