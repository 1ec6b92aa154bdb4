// The server half of files (issue 13): the calls a tray makes
// (chat/attachments.ts) and fresh links for a message's files.

import { describeError, gql, messageFields, type Attachment, type Message } from './api';
import { declaredType, type FileApi, type Target } from './chat/attachments';

const attachmentFields = 'attachmentId fileName contentType size width height url thumbnailUrl previewUrl expiresAt';

/** FileApi.put over XMLHttpRequest, for the upload progress fetch lacks. */
function putFile(t: Target, body: Blob, onProgress: (sent: number) => void): { done: Promise<void>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open(t.method, t.url);
    for (const h of t.headers) xhr.setRequestHeader(h.name, h.value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`The upload was refused (${xhr.status}).`)));
    xhr.onerror = () => reject(new Error('The upload failed: check your connection.'));
    xhr.onabort = () => reject(new Error('Cancelled.'));
    xhr.send(body);
  });
  return { done, abort: () => xhr.abort() };
}

/** The tray's calls to this server. */
export const serverFiles: FileApi = {
  async createUpload(conversationId, file) {
    const d = await gql<{ createUpload: Target }>(
      `mutation CreateUpload($c: ID!, $n: String!, $t: String!, $s: Int!) {
        createUpload(conversationId: $c, fileName: $n, contentType: $t, size: $s) { uploadId url method headers { name value } }
      }`,
      { c: conversationId, n: file.name || 'pasted-file', t: declaredType(file), s: file.size },
    );
    return d.createUpload;
  },
  put: putFile,
  async completeUpload(uploadId) {
    const d = await gql<{ completeUpload: Attachment }>(
      `mutation Complete($u: ID!) { completeUpload(uploadId: $u) { ${attachmentFields} } }`,
      { u: uploadId },
    );
    return d.completeUpload;
  },
  async sendMessage(input) {
    const d = await gql<{ sendMessage: Message }>(
      `mutation SendFiles($input: SendMessageInput!) { sendMessage(input: $input) { ${messageFields} } }`,
      { input },
    );
    return d.sendMessage;
  },
  describe: describeError,
};

/** Reads a message again for fresh links. */
export async function freshAttachments(conversationId: string, messageId: string): Promise<Attachment[]> {
  const d = await gql<{ getMessage: { attachments: Attachment[] } | null }>(
    `query Fresh($c: ID!, $m: ID!) { getMessage(conversationId: $c, messageId: $m) { attachments { ${attachmentFields} } } }`,
    { c: conversationId, m: messageId },
  );
  return d.getMessage?.attachments ?? [];
}
