package dynamodb

import (
	"context"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/fold"
)

// SearchScanLimit bounds SearchMessages: DynamoDB has no full-text index,
// so a search reads the conversation's newest messages, at most this many,
// and matches them in Go. Older messages are not found. A deployment that
// needs search over all history puts OpenSearch (the recipe's Challenge)
// behind the same contract.
const SearchScanLimit = 2000

// SearchMessages implements confab.MessageStore by a bounded scan (see
// SearchScanLimit) with the word rule of the other stores: every word of
// confab.SearchWords(terms) must be a word of confab.Words(content) or its
// prefix, compared case- and diacritic-folded (café matches cafe).
func (s *Store) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	want := confab.SearchWords(fold.String(terms))
	if len(want) == 0 || limit <= 0 {
		return nil, nil
	}
	return s.querySeqBounded(ctx, "search messages", conversationID, "", 0, false, limit, SearchScanLimit,
		func(m *confab.Message) bool { return !m.Deleted && matches(confab.Words(fold.String(m.Content)), want) })
}

// matches reports whether every word of want prefixes a word of have.
func matches(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.HasPrefix(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// SearchAllMessages implements confab.MessageStore: SearchMessages's
// bounded scan (the newest SearchScanLimit messages of each conversation)
// over every conversation the user is a member of, concurrently, merged
// newest first by MessageID. Its cost grows with the user's number of
// conversations; a deployment that needs more puts OpenSearch behind the
// same contract.
func (s *Store) SearchAllMessages(ctx context.Context, userID, terms, beforeID string, limit int) ([]*confab.Message, error) {
	const op = "search all messages"
	want := confab.SearchWords(fold.String(terms))
	if len(want) == 0 || limit <= 0 {
		return nil, nil
	}
	ids, err := s.ListConversationIDs(ctx, userID, SearchAllConversationsLimit)
	if err != nil {
		return nil, err
	}
	found := make([][]*confab.Message, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			var err error
			found[i], err = s.querySeqBounded(gctx, op, id, "", 0, false, limit, SearchScanLimit, func(m *confab.Message) bool {
				return !m.Deleted && (beforeID == "" || m.MessageID < beforeID) && matches(confab.Words(fold.String(m.Content)), want)
			})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	all := slices.Concat(found...)
	slices.SortFunc(all, func(a, b *confab.Message) int { return strings.Compare(b.MessageID, a.MessageID) })
	return all[:min(len(all), limit)], nil
}

// SearchAllConversationsLimit bounds the conversations SearchAllMessages
// reads: a user's memberships beyond the first this many (by conversation
// id) are not searched.
const SearchAllConversationsLimit = 10000
