package dynamodb_test

import (
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/storetest"
)

func TestStore_PushContract(t *testing.T) {
	endpoint(t)
	storetest.RunPush(t, func(t *testing.T) confab.Store { return open(t) })
}
