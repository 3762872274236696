"""eksidentity's local AWS emulator: moto's IAM, STS and EKS on one loopback port, plus what moto lacks.

Modules, each with one job:
  app.py          the WSGI application: admin routes, service/operation detection, faults, logging, dispatch
  awserrors.py    AWS error responses in the two wire protocols used here (rest-json for EKS, query/XML for IAM/STS)
  eksmodel.py     EKS operation lookup (method + path -> operation name) from botocore's copy of the service model
  eks_addons.py   EKS add-ons (Create/Describe/Update/Delete/List, DescribeAddonVersions)
  pod_identity.py EKS Pod Identity associations (Create/Describe/Update/Delete/List)
  clusters.py     hooks on moto's EKS clusters: local OIDC issuer for every cluster, cleanup on delete
  oidc.py         the local HTTPS OIDC issuer: CA chain, TLS servers, discovery and JWKS documents, rotation
  faults.py       fault injection rules (throttling, HTTP 500, named error on the Nth call, IAM propagation delay)
  requestlog.py   the request log (service, operation, status, time, duration)
  admin.py        the JSON admin API under /_emulator/
  keepalive.py    persistent HTTP/1.1 connections on the AWS port (werkzeug closes each one)
  server.py       process wiring: build everything, serve, stop

Nothing here copies moto code: moto is imported and called.
"""
