package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Config says which DynamoDB to use.
type Config struct {
	// Region is the AWS region (required).
	Region string
	// Endpoint overrides the service endpoint (DynamoDB Local:
	// http://127.0.0.1:8000). With an endpoint and no AWS_ACCESS_KEY_ID in
	// the environment, static placeholder credentials are used, which is
	// all DynamoDB Local needs.
	Endpoint string
	// TablePrefix is put before every table name ("chat-app-" serves the
	// recipe's chat-app-messages, chat-app-conversations, chat-app-users).
	TablePrefix string
	// CreateTables creates missing tables and indexes at Open (on-demand
	// capacity). When false, Open fails if one is missing.
	CreateTables bool
	// RetryWithin bounds the retries of throttled and conflicting calls;
	// then the call fails with CodeUnavailable. Default 5 s.
	RetryWithin time.Duration
}

// Store is a confab.Store on DynamoDB. See doc.go for the tables.
type Store struct {
	db          *ddb.Client
	t           tableNames
	retryWithin time.Duration
	// stripes serialise a node's own writes per conversation (by hash
	// stripe), so that its senders do not lose the counters' race to each
	// other; other nodes are handled by the condition and retries.
	stripes [256]stripe
	// outboxIDs numbers the outbox entries this Store writes (outbox.go).
	outboxIDs outboxIDs
}

// stripe is a lock over some conversations, with this node's queue of
// appends (see AppendMessage) and the counters it last wrote or read for
// each, so that an append needs no read first: a stale value (another node
// or another change moved them) fails the transaction's condition, and the
// append reads the conversation and tries again. PurgeMessages holds the
// lock across its read and write, so that this node's appends do not make
// it lose the race; the node's other changes wait their turn in the
// queue (see appender.go).
type stripe struct {
	sync.Mutex
	counters map[string]counters
	queue    map[string][]*appendReq // appends waiting, per conversation
	leading  map[string]bool         // conversations whose appends have a leader
}

// counters are a conversation's lastSeq and lastChangeSeq. Every change
// (see changes.go) moves lastChangeSeq on the condition that it is the
// value read, so the pair read is the conversation's state at commit.
type counters struct{ seq, change int64 }

// maxCachedSeqs bounds a stripe's counter map; past it the map is
// emptied (a miss costs one consistent read).
const maxCachedSeqs = 1024

func (st *stripe) cached(conversationID string) (counters, bool) {
	st.Lock()
	defer st.Unlock()
	c, ok := st.counters[conversationID]
	return c, ok
}

func (st *stripe) remember(conversationID string, c counters) {
	st.Lock()
	defer st.Unlock()
	if st.counters == nil || len(st.counters) >= maxCachedSeqs {
		st.counters = map[string]counters{}
	}
	st.counters[conversationID] = c
}

// advance remembers c unless what is cached is already later (an append
// of this node committed after it).
func (st *stripe) advance(conversationID string, c counters) {
	st.Lock()
	defer st.Unlock()
	if old, ok := st.counters[conversationID]; ok && old.change >= c.change {
		return
	}
	if st.counters == nil || len(st.counters) >= maxCachedSeqs {
		st.counters = map[string]counters{}
	}
	st.counters[conversationID] = c
}

func (st *stripe) forget(conversationID string) {
	st.Lock()
	defer st.Unlock()
	delete(st.counters, conversationID)
}

type tableNames struct {
	messages, conversations, users, confab string
}

// Open connects to DynamoDB and, when cfg.CreateTables is set, creates the
// missing tables and indexes, waiting until they are active.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Region == "" {
		return nil, confab.Errorf(confab.CodeInvalid, "DynamoDB needs a region")
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(cfg.Region), config.WithRetryMaxAttempts(1)}
	if cfg.Endpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: load AWS configuration: %w", err)
	}
	client := ddb.NewFromConfig(awsCfg, func(o *ddb.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	s := &Store{db: client, retryWithin: cfg.RetryWithin, t: tableNames{
		messages:      cfg.TablePrefix + "messages",
		conversations: cfg.TablePrefix + "conversations",
		users:         cfg.TablePrefix + "users",
		confab:        cfg.TablePrefix + "confab",
	}}
	if s.retryWithin <= 0 {
		s.retryWithin = 5 * time.Second
	}
	if err := s.ensureTables(ctx, cfg.CreateTables); err != nil {
		return nil, err
	}
	if err := s.takeOutboxNode(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Ping implements confab.Store: it describes the messages table.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.db.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &s.t.messages})
	return mapErr("ping", err)
}

// Close implements confab.Store. The SDK client holds no resources that
// need releasing; calls in flight finish on their own.
func (s *Store) Close() error { return nil }

// stripe returns conversationID's stripe.
func (s *Store) stripe(conversationID string) *stripe {
	h := fnv.New32a()
	h.Write([]byte(conversationID))
	return &s.stripes[h.Sum32()%uint32(len(s.stripes))]
}

// retry runs fn until it succeeds, fails with an error that is not
// transient (see transient), or s.retryWithin has passed, in which case the
// transient error becomes CodeUnavailable. Backoff is exponential with full
// jitter, from 5 ms to 200 ms.
func (s *Store) retry(ctx context.Context, op string, fn func() error) error {
	deadline := time.Now().Add(s.retryWithin)
	backoff := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil || !transient(err) {
			return mapErr(op, err)
		}
		if time.Now().After(deadline) {
			return unavailable(op, err)
		}
		if err := sleep(ctx, time.Duration(rand.Int64N(int64(backoff))+1)); err != nil {
			return fmt.Errorf("dynamodb: %s: %w", op, err)
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// errLostRace is returned inside a retry loop when a condition on a
// counter failed because another writer got there first; retry treats it
// as transient.
var errLostRace = errors.New("dynamodb: lost a race for a conditional write")

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cancelReasons returns the per-item reason codes of a cancelled
// transaction ("" for an item that did not fail), or nil when err is not a
// cancelled transaction.
func cancelReasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		if r.Code != nil && *r.Code != "None" {
			codes[i] = *r.Code
		}
	}
	return codes
}

// conditionFailed reports whether item i of a cancelled transaction failed
// its condition.
func conditionFailed(err error, i int) bool {
	r := cancelReasons(err)
	return i < len(r) && r[i] == "ConditionalCheckFailed"
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
