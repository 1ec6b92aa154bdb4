package dynamodb_test

import (
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/storetest"
)

func TestStore_OutboxContract(t *testing.T) {
	endpoint(t)
	storetest.RunOutbox(t, func(t *testing.T) confab.Store { return open(t) })
}
