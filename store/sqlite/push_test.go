package sqlite

import (
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/storetest"
)

func TestStore_PushContract(t *testing.T) {
	storetest.RunPush(t, func(t *testing.T) confab.Store { return openTemp(t) })
}
