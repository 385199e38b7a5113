"""Posture (control plane): assessments over stores, such as oversharing of sensitive documents."""
