package sqlite

import (
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/storetest"
)

func TestStore_UploadContract(t *testing.T) {
	storetest.RunUploads(t, func(t *testing.T) confab.Store { return openTemp(t) })
}
