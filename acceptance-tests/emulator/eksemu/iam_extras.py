"""IAM operations moto 5 does not implement but the provider uses, added onto moto's own IAM responder.

Add/RemoveClientIDToOpenIDConnectProvider change an OIDC provider's audience list in moto's backend, with IAM's
semantics: adding a present client ID or removing an absent one is a no-op, an unknown ARN is NoSuchEntity.

This module must not change anything moto already implements.
"""

from __future__ import annotations


def install() -> None:
    """Adds the missing actions to moto's IAM responder (idempotent)."""
    from moto.core.responses import EmptyResult
    from moto.iam.responses import IamResponse

    if getattr(IamResponse, "_eksidentity_extras", False):
        return

    def add_client_id_to_open_id_connect_provider(self):
        provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
        client_id = self._get_param("ClientID")
        if client_id not in provider.client_id_list:
            provider.client_id_list.append(client_id)
        return EmptyResult()

    def remove_client_id_from_open_id_connect_provider(self):
        provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
        client_id = self._get_param("ClientID")
        if client_id in provider.client_id_list:
            provider.client_id_list.remove(client_id)
        return EmptyResult()

    IamResponse.add_client_id_to_open_id_connect_provider = add_client_id_to_open_id_connect_provider
    IamResponse.remove_client_id_from_open_id_connect_provider = remove_client_id_from_open_id_connect_provider
    IamResponse._eksidentity_extras = True
