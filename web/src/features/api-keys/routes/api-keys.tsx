import type { ApiKey } from '@/api/types';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { PageHeader } from '@/components/page';
import { Time } from '@/components/time';
import { useApiKeys, useRevokeApiKey } from '../api/api-keys';

function keyLabel(key: ApiKey): string {
  return key.name ?? `${key.prefix}…`;
}

export function ApiKeysRoute() {
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();
  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys your systems use to call the Mechanica API. Only a short prefix of each is kept."
      />
      <p className="note">
        Create keys with an API key through the API (<code>POST /v1/api-keys</code>): the portal
        cannot create keys, so a sign-in link never leads to a new credential.
      </p>
      {keys.isPending ? (
        <Loading />
      ) : keys.isError ? (
        <ErrorView error={keys.error} context="The API keys could not be loaded." />
      ) : keys.data.data.length === 0 ? (
        <EmptyState title="No API keys">
          <p>Your provider can issue you a first key.</p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.data.map((key) => (
                <tr key={key.id}>
                  <th scope="row">{key.name ?? <span className="muted">Unnamed</span>}</th>
                  <td>
                    <code>{key.prefix}…</code>
                  </td>
                  <td>
                    <Time value={key.created_at} />
                  </td>
                  <td>
                    <Time value={key.last_used_at} fallback="Never" />
                  </td>
                  <td className="actions">
                    <ConfirmDialog
                      trigger={
                        <>
                          Revoke<span className="visually-hidden"> {keyLabel(key)}</span>
                        </>
                      }
                      triggerClassName="button button--danger-outline button--small"
                      title="Revoke this API key?"
                      confirmLabel="Yes, revoke key"
                      cancelLabel="Keep key"
                      danger
                      onConfirm={() => revoke.mutateAsync(key.id)}
                    >
                      <p>
                        Requests with <strong>{keyLabel(key)}</strong> (<code>{key.prefix}…</code>)
                        are refused within seconds. This cannot be undone.
                      </p>
                    </ConfirmDialog>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
